"""A randomly initialised Hugging Face GPT-2 (no download) gives the same logits in our GPT."""
import pytest
import torch

from core.models.gpt2_import import load_gpt2

transformers = pytest.importorskip("transformers")


def _hf_model():
    config = transformers.GPT2Config(vocab_size=211, n_positions=40, n_embd=48, n_layer=3, n_head=4,
                                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # non-trivial biases and norms, so a mapping slip shows
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model


@pytest.mark.parametrize("safe", [True, False])
def test_imported_gpt2_matches_hugging_face(tmp_path, safe):
    hf = _hf_model()
    if safe:
        hf.save_pretrained(tmp_path)
        assert (tmp_path / "model.safetensors").exists()
    else:  # the older format: a torch state dict, read back with weights_only=True
        hf.config.to_json_file(tmp_path / "config.json")
        torch.save(hf.state_dict(), tmp_path / "pytorch_model.bin")
    ours = load_gpt2(tmp_path)
    x = torch.randint(0, 211, (2, 40))
    with torch.no_grad():
        expected = hf(x).logits
        got, _ = ours(x)
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()


def test_missing_weights_file_is_clear(tmp_path):
    _hf_model().config.to_json_file(tmp_path / "config.json")
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_gpt2(tmp_path)
