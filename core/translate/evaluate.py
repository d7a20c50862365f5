"""Translation quality: sacreBLEU and chrF over English<TAB>French pairs, with multiple references.

Tatoeba often gives one English sentence several French translations, on
separate lines. Each distinct English sentence is translated once and scored
against all of its translations, so a correct rendering that matches any of
them counts as correct.
"""
from __future__ import annotations

from pathlib import Path

from core.corpus import read_text
from core.translate.search import LENGTH_PENALTY


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """(English, French) pairs of a UTF-8 `English<TAB>French` file (.tsv or .tsv.xz).
    Lines without a tab, or with an empty side, are skipped."""
    pairs = []
    for line in read_text(path).splitlines():
        en, tab, fr = line.partition("\t")
        fr = fr.split("\t")[0]  # Tatoeba exports may carry a third, attribution column
        if tab and en.strip() and fr.strip():
            pairs.append((en.strip(), fr.strip()))
    if not pairs:
        raise ValueError(f"{path} holds no English<TAB>French lines")
    return pairs


def group_references(pairs: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """Distinct sources in order of first appearance, each with all of its references."""
    refs: dict[str, list[str]] = {}
    for en, fr in pairs:
        refs.setdefault(en, [])
        if fr not in refs[en]:
            refs[en].append(fr)
    return list(refs), list(refs.values())


def corpus_scores(hypotheses: list[str], references: list[list[str]]) -> dict[str, float]:
    """Corpus sacreBLEU (13a tokenisation) and chrF; sources may have different numbers of references."""
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} reference sets")
    width = max(len(r) for r in references)
    streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]
    return {
        "bleu": sacrebleu.corpus_bleu(hypotheses, streams).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, streams).score,
    }


def evaluate_translator(translator, pairs: list[tuple[str, str]], beam: int = 4, limit: int | None = None,
                        batch_size: int = 64, length_penalty: float = LENGTH_PENALTY) -> dict:
    """Translate each distinct source of `pairs` (the first `limit`, if given) and score it."""
    sources, references = group_references(pairs)
    if limit is not None:
        sources, references = sources[:limit], references[:limit]
    hypotheses = [t.text for t in translator.translate(sources, beam=beam, batch_size=batch_size,
                                                       length_penalty=length_penalty)]
    result = {**corpus_scores(hypotheses, references), "sources": len(sources),
              "references": sum(len(r) for r in references), "beam": beam}
    if beam > 1:
        result["length_penalty"] = length_penalty
    return result


def paragraphs(sources: list[str], references: list[list[str]], size: int = 3
               ) -> tuple[list[str], list[list[str]]]:
    """Consecutive sources joined `size` at a time into paragraphs, with references made the same way:
    the r-th reference of a paragraph joins each sentence's r-th reference (its last, where it has fewer)."""
    texts, refs = [], []
    for i in range(0, len(sources) - size + 1, size):
        group = references[i:i + size]
        texts.append(" ".join(sources[i:i + size]))
        refs.append([" ".join(r[min(k, len(r) - 1)] for r in group) for k in range(max(len(r) for r in group))])
    return texts, refs


def evaluate_robust(translator, pairs: list[tuple[str, str]], beam: int = 4, limit: int | None = None,
                    batch_size: int = 64, length_penalty: float = LENGTH_PENALTY) -> dict:
    """BLEU on the distinct sources as written, without their final punctuation, and joined three at a time
    into paragraphs, beside the same paragraphs translated one sentence at a time (the translations of the
    sources as written, joined)."""
    from core.translate.sentences import without_final_punctuation

    sources, references = group_references(pairs)
    if limit is not None:
        sources, references = sources[:limit], references[:limit]

    def translate(texts: list[str]) -> list[str]:
        return [t.text for t in translator.translate(texts, beam=beam, batch_size=batch_size,
                                                     length_penalty=length_penalty)]

    written = translate(sources)
    bare = translate([without_final_punctuation(s) for s in sources])
    texts, paragraph_refs = paragraphs(sources, references)
    joined = [" ".join(written[i:i + 3]) for i in range(0, 3 * len(texts), 3)]
    scores = {"as_written": corpus_scores(written, references), "unpunctuated": corpus_scores(bare, references),
              "paragraphs": corpus_scores(translate(texts), paragraph_refs),
              "one_by_one": corpus_scores(joined, paragraph_refs)}
    result = {f"bleu_{name}": s["bleu"] for name, s in scores.items()}
    result.update({f"chrf_{name}": s["chrf"] for name, s in scores.items()})
    result.update({"unpunctuated_gap": result["bleu_as_written"] - result["bleu_unpunctuated"],
                   "paragraph_gap": result["bleu_one_by_one"] - result["bleu_paragraphs"],
                   "sources": len(sources), "paragraphs": len(texts), "beam": beam})
    if beam > 1:
        result["length_penalty"] = length_penalty
    return result
