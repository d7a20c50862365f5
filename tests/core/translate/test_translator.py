"""The English→French Transformer: masks, cache, decoding, evaluation, checkpoints and training (tiny models only)."""
from __future__ import annotations

import pytest
import torch
from rich.console import Console

from core.catalog import asset
from core.checkpoints import Checkpoint, CheckpointError, save_checkpoint, state_tensors
from core.models.translator import Translator, TranslatorConfig
from core.train.loop import TrainConfig, train
from core.train.translator import TranslatorData, TranslatorTask, length_batches
from core.translate.attention_plot import attention_heatmap, save_attention_png
from core.translate.evaluate import (
    corpus_scores,
    evaluate_translator,
    group_references,
    read_pairs,
)
from core.translate.search import beam_search, greedy_decode
from core.translate.translator import SentenceTranslation, load_translator

SENTENCES = ["I see the cat.", "They want the small house.", "You find the apple.", "We take the small car.",
             "I want the dog."]


@pytest.fixture(scope="module")
def random_model() -> Translator:
    torch.manual_seed(0)
    config = TranslatorConfig(vocab_size=64, d_model=32, n_head=4, n_encoder_layer=2, n_decoder_layer=2, d_ff=64,
                              dropout=0.0, max_len=40)
    return Translator(config).eval()


def batch(rows: list[list[int]]) -> torch.Tensor:
    out = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r)
    return out


SOURCES = [[5, 9, 17, 33, 3], [7, 8, 3], [40, 41, 42, 43, 44, 45, 46, 3]]


# ----- model -------------------------------------------------------------------------------------
def test_the_recipe_fits_the_shipped_budget():
    from core.train.recipes import EN_FR

    params = Translator(EN_FR.config).num_params()
    assert params * 2 + 512 * 1024 <= 12 * 2**20  # fp16 weights plus metadata (tokenizer) under 12 MiB


def test_shapes_and_a_loss_that_ignores_padding(random_model):
    src, tgt = batch(SOURCES), batch([[2, 10, 11, 3], [2, 12, 3], [2, 13, 14, 15, 16, 3]])
    logits, loss = random_model(src, tgt[:, :-1], tgt[:, 1:])
    assert logits.shape == (3, tgt.size(1) - 1, 64) and loss.item() > 0
    wider = torch.cat([tgt, torch.zeros(3, 4, dtype=torch.long)], dim=1)  # more padding, same loss
    assert random_model(src, wider[:, :-1], wider[:, 1:])[1].item() == pytest.approx(loss.item(), rel=1e-5)


def test_output_layer_is_the_shared_embedding(random_model):
    names = [n for n, _ in random_model.named_parameters()]
    assert sum("embed" in n for n in names) == 1
    assert not any(n.startswith(("lm_head", "generator", "src_embed", "tgt_embed")) for n in names)


def test_source_padding_changes_nothing(random_model):
    src = batch(SOURCES)
    memory, mask = random_model.encode(src)
    tgt = torch.tensor([[2, 20, 21, 22]])
    for row, ids in enumerate(SOURCES):
        alone, alone_mask = random_model.encode(torch.tensor([ids]))
        assert torch.allclose(memory[row, :len(ids)], alone[0], atol=1e-5)
        a = random_model.decode(tgt, alone, alone_mask)[0]
        b = random_model.decode(tgt, memory[row:row + 1], mask[row:row + 1])[0]
        assert torch.allclose(a, b, atol=1e-5)


def test_decoder_is_causal(random_model):
    memory, mask = random_model.encode(batch(SOURCES[:1]))
    a = random_model.decode(torch.tensor([[2, 20, 21, 22, 23]]), memory, mask)[0]
    b = random_model.decode(torch.tensor([[2, 20, 21, 50, 60]]), memory, mask)[0]
    assert torch.allclose(a[:, :3], b[:, :3], atol=1e-6)
    assert not torch.allclose(a[:, 3:], b[:, 3:])


def test_cached_decoder_matches_the_full_decoder(random_model):
    src = batch(SOURCES)
    tgt = torch.randint(4, 64, (3, 9))
    tgt[:, 0] = 2
    memory, mask = random_model.encode(src)
    full, _ = random_model.decode(tgt, memory, mask)
    cache = random_model.start_cache(memory, mask)
    steps, weights = zip(*(random_model.decode(tgt[:, i:i + 1], cache=cache, need_weights=True) for i in range(9)))
    assert len(cache) == 9
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)
    w = torch.cat(weights, dim=1)  # (B, T, S): rows are distributions over the real source tokens only
    assert torch.allclose(w.sum(-1), torch.ones(3, 9), atol=1e-5)
    assert w[1, :, 3:].abs().max() == 0  # the second source has 3 real tokens


def test_a_prefix_then_a_chunk_matches_the_full_decoder(random_model):
    memory, mask = random_model.encode(batch(SOURCES[:1]))
    tgt = torch.tensor([[2, 20, 21, 22, 23, 24]])
    cache = random_model.start_cache(memory, mask)
    first, _ = random_model.decode(tgt[:, :2], cache=cache)
    rest, _ = random_model.decode(tgt[:, 2:], cache=cache)
    assert torch.allclose(torch.cat([first, rest], 1), random_model.decode(tgt, memory, mask)[0], atol=1e-5)


def test_too_long_a_sequence_is_refused(random_model):
    with pytest.raises(ValueError, match="exceeds"):
        random_model.encode(torch.full((1, 41), 5))


# ----- decoding ----------------------------------------------------------------------------------
def test_greedy_equals_beam_1_on_a_random_model(random_model):
    src = batch(SOURCES)
    greedy, beam = greedy_decode(random_model, src), beam_search(random_model, src, beam=1)
    for (g_tokens, g_attn, g_lp), (b_tokens, b_attn, b_lp) in zip(greedy, beam):
        assert g_tokens == b_tokens and g_tokens[-1] == 3
        assert g_lp == pytest.approx(b_lp, abs=1e-4)
        assert torch.allclose(g_attn, b_attn, atol=1e-5)


def test_every_row_stops_at_its_own_length_limit(random_model):
    # an untrained model rarely closes: each row runs to 1.5 x its source length + 10
    for tokens, _, _ in greedy_decode(random_model, batch(SOURCES)):
        assert tokens[-1] == 3
    lengths = [len(t) for t, _, _ in beam_search(random_model, batch(SOURCES), beam=3)]
    assert all(n <= len(s) * 3 // 2 + 10 for n, s in zip(lengths, SOURCES))


@pytest.mark.parametrize("beam", [1, 4])
def test_a_padded_batch_gives_what_one_at_a_time_gives(beam, random_model):
    src = batch(SOURCES)
    decode = greedy_decode if beam == 1 else lambda m, s: beam_search(m, s, beam)
    together = decode(random_model, src)
    for row, ids in enumerate(SOURCES):
        alone = decode(random_model, torch.tensor([ids]))[0]
        assert alone[0] == together[row][0]
        assert torch.allclose(alone[1], together[row][1][:, :len(ids)], atol=1e-5)


def test_the_trained_tiny_model_translates_and_greedy_is_beam_1(tiny_translator):
    translator = tiny_translator
    greedy = translator.translate(SENTENCES, beam=1)
    assert greedy[0].text == "Je vois le chat."
    assert [t.text for t in translator.translate(SENTENCES, beam=1)] == [t.text for t in greedy]
    beam1 = [t.text for t in translator.translate(SENTENCES, beam=1, batch_size=2)]
    assert beam1 == [t.text for t in greedy]
    beam4 = translator.translate(SENTENCES, beam=4)
    one_by_one = [translator.translate([s], beam=4)[0].text for s in SENTENCES]
    assert [t.text for t in beam4] == one_by_one
    for text in beam4:
        [t] = text.sentences
        assert t.text == text.text and t.source == text.source
        assert t.attention.shape == (len(t.target_tokens), len(t.source_tokens))
        assert t.target_tokens[-1] == "</s>" and t.source_tokens[-1] == "</s>"
        assert t.log_prob < 0


def test_beam_search_reaches_at_least_the_greedy_score_without_length_penalty(tiny_translator):
    t = tiny_translator
    for sentence in SENTENCES + ["Hello, how are you?"]:
        [greedy] = t.translate_sentences([sentence], beam=1)
        [beam] = t.translate_sentences([sentence], beam=4, length_penalty=0.0)
        assert beam.log_prob >= greedy.log_prob - 1e-4


def test_bad_input_is_explained_and_nothing_is_lost(tiny_translator):
    t = tiny_translator
    long_input = "I see the cat and " * 40  # one sentence longer than the model reads
    lines = ["", "   ", "I see\x07 the cat.\x1b", long_input, "Ünïcødé 😀 漢字 — “quotes”",
             "I see the cat."]
    out = t.translate(lines, beam=4)
    assert len(out) == len(lines) and [r.source for r in out] == lines
    assert out[0].text == "" and "empty" in out[0].notes[0] and out[1].text == ""
    assert out[2].text == out[5].text and "2 control character" in out[2].notes[0]
    assert any("the model reads only the first 47" in n for n in out[3].notes) and out[3].text
    assert out[4].text and len(out[4].sentences[0].source_tokens) > 5  # byte fallback: any text encodes
    assert not out[5].notes
    with pytest.raises(ValueError, match="beam"):
        t.translate(["x"], beam=0)


def test_paragraphs_and_lines_are_translated_sentence_by_sentence_and_keep_their_breaks(tiny_translator):
    t = tiny_translator
    one = {s: t.translate([s])[0].text for s in ("I see the cat.", "We want the small house.", "They find the dog.")}
    paragraph = t.translate(["I see the cat. We want the small house.\n\nThey find the dog."])[0]
    assert paragraph.text == f"{one['I see the cat.']} {one['We want the small house.']}\n\n" \
                             f"{one['They find the dog.']}"
    assert [s.source for s in paragraph.sentences] == list(one)
    assert t.translate(["I see the cat.\r\nThey find the dog."])[0].text.split("\n") == \
        [one["I see the cat."], one["They find the dog."]]


def test_attention_pictures(tmp_path, tiny_translator):
    [t] = tiny_translator.translate(["They want the small house."], beam=4)[0].sentences
    heatmap = attention_heatmap(t, width=80)
    lines = heatmap.plain.split("\n")
    assert len(lines) == 1 + (len(t.target_tokens) + 1) // 2 + 1  # header, two tokens a row, legend
    assert "▀" in heatmap.plain and all(len(line) <= 80 for line in lines)
    assert len(attention_heatmap(t, width=30).plain.split("\n")[1]) <= 30 + len(t.source_tokens)
    png = save_attention_png(t, tmp_path / "attention.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no attention"):
        save_attention_png(SentenceTranslation(source=""), tmp_path / "none.png")


# ----- evaluation --------------------------------------------------------------------------------
def test_references_of_one_source_are_grouped(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("Run!\tCours !\nRun!\tCourez !\nno tab here\nWho?\tQui ?\nRun!\tCours !\n\t\n")
    pairs = read_pairs(path)
    assert pairs == [("Run!", "Cours !"), ("Run!", "Courez !"), ("Who?", "Qui ?"), ("Run!", "Cours !")]
    sources, refs = group_references(pairs)
    assert sources == ["Run!", "Who?"] and refs == [["Cours !", "Courez !"], ["Qui ?"]]
    (tmp_path / "empty.tsv").write_text("nothing\n")
    with pytest.raises(ValueError, match="no English"):
        read_pairs(tmp_path / "empty.tsv")


def test_any_reference_counts():
    refs = [["Je vois le chat noir.", "Je regarde le chat noir."], ["Il pleut beaucoup aujourd'hui."]]
    second = corpus_scores(["Je regarde le chat noir.", "Il pleut beaucoup aujourd'hui."], refs)
    assert second["bleu"] == pytest.approx(100.0) and second["chrf"] == pytest.approx(100.0)
    only_first = corpus_scores(["Je regarde le chat noir.", "Il pleut beaucoup aujourd'hui."],
                               [[r[0]] for r in refs])
    assert only_first["bleu"] < 100.0


def test_evaluate_translator_scores_each_source_once(tmp_path, template_pairs, tiny_translator):
    pairs = template_pairs[:12] + [("I see the cat.", "Je regarde le chat.")]
    result = evaluate_translator(tiny_translator, pairs, beam=1)
    assert result["sources"] == 12 and result["references"] == 13 and result["bleu"] > 50
    assert evaluate_translator(tiny_translator, pairs, beam=2, limit=3)["sources"] == 3


def test_shipped_data_and_attribution_are_in_assets():
    pairs = read_pairs(asset("en-fr", "valid.tsv.xz"))
    assert len(pairs) == 3286 and all(en and fr for en, fr in pairs)
    sources = (asset("en-fr") / "SOURCES.md").read_text()
    assert "CC-BY 2.0" in sources and "tatoeba.org" in sources and "manythings.org/anki" in sources


# ----- checkpoints -------------------------------------------------------------------------------
def test_checkpoint_round_trip_fp16_translates_the_same(tmp_path, save_translator, tiny_translator):
    t = tiny_translator
    full = load_translator(save_translator(tmp_path / "full.safetensors"), "cpu")
    assert [r.text for r in full.translate(SENTENCES)] == [r.text for r in t.translate(SENTENCES)]
    half = tmp_path / "half.safetensors"
    save_checkpoint(half, Checkpoint("translator", t.model.config.to_dict(), state_tensors(t.model),
                                     tokenizer=t.tokenizer.model_bytes))
    assert half.stat().st_size < (tmp_path / "full.safetensors").stat().st_size
    assert load_translator(half, "cpu").translate(["I see the cat."])[0].text == "Je vois le chat."


def test_checkpoint_errors_say_what_to_do(tmp_path, tiny_gpt, tiny_tokenizer, save_translator, tiny_translator):
    with pytest.raises(CheckpointError, match="inkhorn train translator"):
        load_translator(tmp_path / "missing.safetensors", "cpu")
    gpt = save_checkpoint(tmp_path / "gpt.safetensors", Checkpoint("gpt", tiny_gpt.config.to_dict(),
                          state_tensors(tiny_gpt), tokenizer=tiny_tokenizer.model_bytes))
    with pytest.raises(CheckpointError, match="not a 'translator' model"):
        load_translator(gpt, "cpu")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(save_translator(tmp_path / "ok.safetensors").read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_translator(corrupt, "cpu")
    t = tiny_translator
    odd = save_checkpoint(tmp_path / "odd.safetensors", Checkpoint(
        "translator", {**t.model.config.to_dict(), "d_ff": 48}, state_tensors(t.model),
        tokenizer=t.tokenizer.model_bytes))
    with pytest.raises(CheckpointError, match="wrong shapes"):
        load_translator(odd, "cpu")
    unknown = save_checkpoint(tmp_path / "unknown.safetensors", Checkpoint(
        "translator", {**t.model.config.to_dict(), "n_expert": 8}, state_tensors(t.model),
        tokenizer=t.tokenizer.model_bytes))
    with pytest.raises(CheckpointError, match="cannot build"):
        load_translator(unknown, "cpu")


# ----- training ----------------------------------------------------------------------------------
def test_length_batches_cover_every_pair_once_within_the_budget():
    import random

    rng = random.Random(0)
    src = [rng.randint(2, 30) for _ in range(500)]
    tgt = [rng.randint(2, 30) for _ in range(500)]
    batches = length_batches(src, tgt, tokens_per_batch=200, max_sentences=16, seed=1)
    assert sorted(i for b in batches for i in b) == list(range(500))
    for b in batches:
        assert len(b) <= 16 and len(b) * max(max(src[i], tgt[i]) for i in b) <= 200
    assert batches == length_batches(src, tgt, 200, 16, seed=1)
    widths = [max(src[i] for i in b) - min(src[i] for i in b) for b in batches]
    assert sum(widths) / len(widths) < 3  # sorted by length: little padding


def test_training_on_a_few_hundred_real_pairs_lowers_the_loss(tmp_path, write_pairs):
    pairs = read_pairs(asset("en-fr", "valid.tsv.xz"))
    data = TranslatorData(train=str(write_pairs(tmp_path / "train.tsv", pairs[:400])),
                          valid=str(write_pairs(tmp_path / "valid.tsv", pairs[400:440])), vocab_size=400,
                          tokens_per_batch=600, max_sentences=1024, eval_sentences=10)
    cfg = TrainConfig(max_steps=60, lr=3e-3, min_lr=3e-4, warmup_steps=10, eval_every=30, bf16=False)
    torch.manual_seed(0)
    task = TranslatorTask(TranslatorConfig(vocab_size=1, d_model=32, n_head=2, n_encoder_layer=1, n_decoder_layer=1,
                                           d_ff=64, max_len=64), data, cfg, torch.device("cpu"))
    assert task.model.config.vocab_size == task.tokenizer.vocab_size and task.model.config.eos_id == 3
    first = sum(task.loss(s)[0].item() for s in range(len(task.train_batches))) / len(task.train_batches)
    before = task.valid_loss()
    out = tmp_path / "en-fr.safetensors"
    result = train(task, cfg, out, torch.device("cpu"), console=Console(quiet=True))
    task.model.train()
    last = sum(task.loss(s)[0].item() for s in range(len(task.train_batches))) / len(task.train_batches)
    assert last < first - 1.0
    assert task.valid_loss() < before
    assert {"bleu", "chrf", "valid_loss"} <= set(result["valid"])
    loaded = load_translator(out, "cpu")
    assert loaded.model.config.max_len == 64
    assert loaded.training["data"]["train"] == "train.tsv" and loaded.training["best_valid"] <= 0
    assert (tmp_path / "en-fr.resume.safetensors").exists()  # beside the checkpoint when no run folder is given


def test_batches_follow_the_step_so_a_resumed_run_sees_the_same_ones(tmp_path, template_pairs, write_pairs):
    pairs = template_pairs
    data = TranslatorData(train=str(write_pairs(tmp_path / "t.tsv", pairs)),
                          valid=str(write_pairs(tmp_path / "v.tsv", pairs[:8])), vocab_size=320, tokens_per_batch=200,
                          max_sentences=1024, eval_sentences=8)
    cfg = TrainConfig(seed=3)
    a = TranslatorTask(TranslatorConfig(vocab_size=1, d_model=16, n_head=2, n_encoder_layer=1, n_decoder_layer=1, d_ff=32,
                                       max_len=128),
                       data, cfg, torch.device("cpu"))
    n = len(a.train_batches)
    seen = [a.batch(s)[0].data_ptr() for s in range(n)]
    assert len(set(seen)) == n  # one epoch visits every batch once
    later = a.batch(n + 5)
    b = TranslatorTask(TranslatorConfig(vocab_size=1, d_model=16, n_head=2, n_encoder_layer=1, n_decoder_layer=1, d_ff=32,
                                       max_len=128),
                       data, cfg, torch.device("cpu"), tokenizer=a.tokenizer)
    assert torch.equal(b.batch(n + 5)[0], later[0]) and torch.equal(b.batch(3)[1], a.batch(3)[1])


def test_robust_evaluation_scores_every_way_people_type(template_pairs, tiny_translator):
    from core.translate.evaluate import evaluate_robust, paragraphs

    texts, refs = paragraphs(["a.", "b.", "c.", "d."], [["A."], ["B1.", "B2."], ["C."], ["D."]])
    assert texts == ["a. b. c."] and refs == [["A. B1. C.", "A. B2. C."]]  # the leftover "d." makes none
    result = evaluate_robust(tiny_translator, template_pairs[:60], beam=1)
    assert result["sources"] == 60 and result["paragraphs"] == 20 and result["beam"] == 1
    assert result["bleu_as_written"] > 50
    assert abs(result["paragraph_gap"]) < 1e-6  # every paragraph splits back into its sentences
    assert result["unpunctuated_gap"] == pytest.approx(result["bleu_as_written"] - result["bleu_unpunctuated"])


def test_sentences_times_beams_decoded_at_once_stay_bounded(tiny_translator, monkeypatch):
    import core.translate.translator as translator_module

    monkeypatch.setattr(translator_module, "MAX_DECODE_ROWS", 64)  # the real bound, 4096, scaled down
    rows = []
    real = translator_module.beam_search

    def counting(model, src, beam, length_penalty):
        rows.append(src.size(0) * beam)
        return real(model, src, beam, length_penalty)

    monkeypatch.setattr(translator_module, "beam_search", counting)
    tiny_translator.translate_sentences(["I see the cat."] * 20, beam=8, batch_size=1024)
    assert max(rows) == 64 and sum(rows) == 20 * 8
