"""Measuring the VAE and the GAN (used by training, `inkhorn eval vae|gan` and `inkhorn bench vae|gan`).

VAE: reconstruction error and the ELBO on held-out faces, and the success of
latent arithmetic as judged by an attribute classifier. The judge is trained
by the evaluation itself on the labelled training photos (seeded, about a
minute on a CPU, seconds on a GPU) rather than shipped: it must be independent
of the model it judges, and the shipped checkpoint stays the VAE alone. Its
own accuracy on the valid photos and on the VAE's reconstructions of them is
reported, since arithmetic cannot score better than the judge can see. A
judge's own training (its seed, even the thread count) moves the arithmetic
score by a point or so, so the evaluation trains several (seeds 0, 1, 2 by
default) and reports their mean alongside each one's figure.

GAN: there are no labels, so the checks compare samples with real faces:
sliced Wasserstein distance in pixel space (0 when the two sets have the same
distribution along random directions; it grows with colour shifts, blur and
mode collapse), diversity (mean pairwise distance of samples over that of real
faces: near 1 is healthy, well below 1 is mode collapse), a colour-histogram
distance, a sharpness ratio (a blurry generator scores below 1), and the
distance from each sample to its nearest training face against the same for
valid faces (a ratio well below 1 means the generator copies training faces).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from core.art.arithmetic import ARITHMETIC_STRENGTH, GROUPS, analogies
from core.art.images import ImageSet, load_split, to_unit
from core.models.attributes import ATTRIBUTES, AttributeClassifier, AttributeConfig
from core.models.vae import kl_divergence, neg_elbo

CHUNK = 256


# ----- VAE ----------------------------------------------------------------------------------------
@torch.no_grad()
def vae_scores(model, images: torch.Tensor, device: torch.device, seed: int = 0) -> dict[str, float]:
    """Per-image means over uint8 `images`: sse and kl (one posterior sample, seeded: the loss
    terms), neg_elbo (nats), and recon_mse / recon_psnr of the reconstruction from the posterior mean."""
    gen = torch.Generator().manual_seed(seed)
    sse, kl, mse = [], [], []
    for chunk in images.split(CHUNK):
        x = to_unit(chunk).to(device)
        mean, logvar = model.encode(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=gen).to(device)
        sse.append((model.decode(z) - x).pow(2).flatten(1).sum(1).cpu())
        mse.append((model.decode(mean) - x).pow(2).flatten(1).mean(1).cpu())
        kl.append(kl_divergence(mean, logvar).cpu())
    sse, kl, mse = torch.cat(sse).mean().item(), torch.cat(kl).mean().item(), torch.cat(mse).mean().item()
    pixels = images[0].numel()
    return {"sse": sse, "kl": kl, "neg_elbo": neg_elbo(torch.tensor(sse), torch.tensor(kl), pixels).item(),
            "recon_mse": mse, "recon_psnr": 10 * float(np.log10(1.0 / max(mse, 1e-12)))}


def _group_index(data: ImageSet) -> torch.Tensor:
    """0..3 in the order of GROUPS, from the Male and Eyeglasses labels."""
    index = torch.zeros(len(data), dtype=torch.long)
    for i, attrs in enumerate(GROUPS.values()):
        mask = torch.ones(len(data), dtype=torch.bool)
        for attribute, value in attrs.items():
            mask &= data.attributes[attribute] == value
        index[mask] = i
    return index


def train_judge(data: ImageSet, device: torch.device, steps: int = 800, batch_size: int = 64,
                seed: int = 0) -> AttributeClassifier:
    """The attribute classifier, trained on group-balanced batches: each batch draws the four groups
    equally often, so the 40 women with glasses weigh as much as the 3,334 without."""
    if not all(a in data.attributes for a in ATTRIBUTES):
        raise ValueError(f"the judge needs {' and '.join(ATTRIBUTES)} labels (a {{split}}.csv beside the zips)")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    judge = AttributeClassifier(AttributeConfig(image_size=data.images.shape[-1])).to(device)
    opt = torch.optim.AdamW(judge.parameters(), lr=2e-3, weight_decay=1e-3)
    groups = _group_index(data)
    members = [m for m in (torch.nonzero(groups == g).flatten() for g in range(len(GROUPS))) if len(m)]
    flat = torch.cat(members)
    sizes = torch.tensor([len(m) for m in members])
    starts = torch.cumsum(sizes, 0) - sizes
    targets = torch.stack([data.attributes[a] for a in ATTRIBUTES], 1).float()
    judge.train()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * step / steps))
        which = torch.randint(len(members), (batch_size,), generator=gen)
        idx = flat[starts[which] + (torch.rand(batch_size, generator=gen) * sizes[which]).long()]
        x = to_unit(data.images[idx])
        flip = torch.rand(batch_size, generator=gen) < 0.5
        x[flip] = x[flip].flip(3)
        loss = F.binary_cross_entropy_with_logits(judge(x.to(device)), targets[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return judge.eval()


@torch.no_grad()
def judge_groups(judge: AttributeClassifier, pictures: torch.Tensor, device: torch.device) -> list[str]:
    """Group name the judge sees in each picture ((N, 3, H, W) float in [0, 1])."""
    judge.eval()
    logits = torch.cat([judge(chunk.to(device)).cpu() for chunk in pictures.split(CHUNK)])
    seen = (logits > 0).long()
    by_attrs = {tuple(attrs[a] for a in ATTRIBUTES): name for name, attrs in GROUPS.items()}
    return [by_attrs[tuple(row)] for row in seen.tolist()]


def _share(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def judge_accuracy(judge: AttributeClassifier, pictures: torch.Tensor, data: ImageSet,
                   device: torch.device) -> dict[str, float]:
    """Accuracy per attribute, balanced (mean of the per-class accuracies, since glasses are rare),
    and the share of pictures put in exactly the right group."""
    seen = judge_groups(judge, pictures, device)
    truth = [list(GROUPS)[i] for i in _group_index(data).tolist()]
    result = {}
    for attribute in ATTRIBUTES:
        got = torch.tensor([GROUPS[s][attribute] for s in seen])
        want = data.attributes[attribute]
        per_class = [(got[want == v] == v).float().mean().item() for v in (0, 1) if (want == v).any()]
        result[f"{attribute.lower()}_balanced_accuracy"] = round(float(np.mean(per_class)), 4)
    result["group_accuracy"] = _share([s == t for s, t in zip(seen, truth)])
    return result


JUDGED_STRENGTHS = (1.0, 1.5, 2.0, 2.5, 3.0)  # what `inkhorn eval vae` reports besides its own


@torch.no_grad()
def arithmetic_success(artist, judge: AttributeClassifier, valid: ImageSet,
                       strength: float = ARITHMETIC_STRENGTH, codes: torch.Tensor | None = None) -> dict:
    """For each of the 8 analogies a - b + c = d between the groups: move every valid face of group c
    by strength * (mean(a) - mean(b)), the stored group means, and ask the judge whether the decoded
    picture is in group d; also decode mean(c) + strength * (mean(a) - mean(b)) itself. Success is
    the share judged d. `codes`: the valid faces' latents, if already encoded (a sweep over strengths)."""
    missing = [g for g in GROUPS if g not in artist.groups]
    if missing:
        raise ValueError(f"{artist.path} stores no mean latent for {', '.join(missing)}")
    groups = _group_index(valid)
    if codes is None:
        codes = artist.encode(to_unit(valid.images))
    per_face, means, equations = [], [], []
    for a, b, c, d in analogies():
        direction = strength * (artist.groups[a] - artist.groups[b])
        faces = codes[groups == list(GROUPS).index(c)]
        hits = []
        if len(faces):
            z = faces + direction
            seen = judge_groups(judge, artist.decode(z), artist.device)
            hits = [s == d for s in seen]
        mean_hit = judge_groups(judge, artist.decode((direction + artist.groups[c])[None]), artist.device)[0] == d
        per_face += hits
        means.append(mean_hit)
        equations.append({"equation": f"{a} - {b} + {c}", "expected": d, "faces": len(hits),
                          "success": _share(hits), "group_means_success": mean_hit})
    return {"arithmetic_strength": strength, "arithmetic_success": _share(per_face),
            "arithmetic_faces": len(per_face), "arithmetic_group_means_success": _share(means),
            "equations": equations}


def over_judges(results: list[dict]) -> dict:
    """One `arithmetic_success` result from several judges' (same faces, same edits): every share is
    the mean over the judges, and `arithmetic_success_per_judge` keeps each judge's figure, since a
    judge's own training (seed, thread count) moves the result by a point or so."""
    def mean(values: list) -> float | None:
        return None if None in values else round(float(np.mean(values)), 4)

    first = results[0]
    equations = [{**eq, "success": mean([r["equations"][i]["success"] for r in results]),
                  "group_means_success": mean([float(r["equations"][i]["group_means_success"]) for r in results])}
                 for i, eq in enumerate(first["equations"])]
    return {**first, "arithmetic_success": mean([r["arithmetic_success"] for r in results]),
            "arithmetic_success_per_judge": [r["arithmetic_success"] for r in results],
            "arithmetic_group_means_success": mean([r["arithmetic_group_means_success"] for r in results]),
            "equations": equations}


def evaluate_vae(artist, folder, split: str = "valid", judges: int = 3, judge_steps: int = 800,
                 strength: float = ARITHMETIC_STRENGTH) -> dict:
    """`inkhorn eval vae`: ELBO and reconstruction of the `split` faces, the judges' own accuracy on
    them and on their reconstructions, and judged arithmetic at every strength (the headline at `strength`)."""
    if judges < 1:
        raise ValueError(f"--judges must be at least 1, not {judges}")
    faces = load_split(folder, split, artist.image_size)
    result = {"model": "vae", "checkpoint": str(artist.path), "split": split, f"{split}_images": len(faces)}
    result.update(vae_scores(artist.model, faces.images, artist.device))
    train_faces = load_split(folder, "train", artist.image_size)
    trained = [train_judge(train_faces, artist.device, steps=judge_steps, seed=s) for s in range(judges)]
    real = to_unit(faces.images)
    codes = artist.encode(real)
    for name, pictures in ((split, real), ("recon", artist.decode(codes))):
        scores = [judge_accuracy(judge, pictures, faces, artist.device) for judge in trained]
        result.update({f"judge_{name}_{k}": round(float(np.mean([sc[k] for sc in scores])), 4) for k in scores[0]})
    result["judges"] = len(trained)
    judged = {s: over_judges([arithmetic_success(artist, judge, faces, s, codes) for judge in trained])
              for s in sorted({*JUDGED_STRENGTHS, strength})}
    result.update(judged[strength])
    result["arithmetic_success_by_strength"] = {f"{s:g}": r["arithmetic_success"] for s, r in judged.items()}
    return result


# ----- GAN ----------------------------------------------------------------------------------------
def _flat(pictures: torch.Tensor, size: int = 32) -> torch.Tensor:
    """(N, 3, H, W) [0, 1] -> (N, 3*size*size), area-downsampled: the comparisons look at faces, not JPEG noise."""
    return F.interpolate(pictures.float(), size=(size, size), mode="area").flatten(1)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, projections: int = 256, seed: int = 0) -> float:
    """Mean over random unit directions of the 1-D Wasserstein distance between the projected sets."""
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    gen = torch.Generator().manual_seed(seed)
    directions = torch.randn(a.shape[1], projections, generator=gen)
    directions /= directions.norm(dim=0, keepdim=True)
    pa, _ = torch.sort(a @ directions, dim=0)
    pb, _ = torch.sort(b @ directions, dim=0)
    return (pa - pb).abs().mean().item()


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """Mean root-mean-square pixel difference over all pairs of rows."""
    d = torch.cdist(x, x) / x.shape[1] ** 0.5
    n = len(x)
    return (d.sum() / (n * (n - 1))).item()


def colour_distance(a: torch.Tensor, b: torch.Tensor, bins: int = 8) -> float:
    """Total-variation distance (0..1) between the RGB histograms (bins^3 cells) of two picture sets."""
    def histogram(x: torch.Tensor) -> torch.Tensor:
        q = (x.clamp(0, 1) * (bins - 1e-6)).long()
        cells = (q[:, 0] * bins + q[:, 1]) * bins + q[:, 2]
        h = torch.bincount(cells.flatten(), minlength=bins**3).float()
        return h / h.sum()
    return 0.5 * (histogram(a) - histogram(b)).abs().sum().item()


def sharpness(x: torch.Tensor) -> float:
    """Mean absolute Laplacian of the grey picture: detail per pixel."""
    grey = x.mean(1, keepdim=True)
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])[None, None]
    return F.conv2d(grey, kernel).abs().mean().item()


def gan_quality(fake: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
    """`fake` (N, 3, H, W) in [0, 1] against uint8 `real` pictures (valid faces)."""
    real = to_unit(real)
    fake_flat, real_flat = _flat(fake), _flat(real)
    return {
        "swd": sliced_wasserstein(fake_flat, real_flat),
        "diversity": mean_pairwise_distance(fake_flat) / mean_pairwise_distance(real_flat),
        "colour_distance": colour_distance(fake, real),
        "sharpness_ratio": sharpness(fake) / sharpness(real),
    }


def nearest_distances(queries: torch.Tensor, reference: torch.Tensor, device: torch.device) -> torch.Tensor:
    """For each query row, the RMS pixel distance to its nearest reference row."""
    reference = reference.to(device)
    scale = queries.shape[1] ** 0.5
    best = [torch.cdist(q.to(device), reference).min(1).values.cpu() for q in queries.split(CHUNK)]
    return torch.cat(best) / scale


def evaluate_gan(artist, folder, samples: int = 1000, seed: int = 0) -> dict:
    """`inkhorn eval gan`: `samples` pictures against the valid faces, beside what training faces score
    against them (a perfect generator's figures), and the memorisation check."""
    if samples < 2:
        raise ValueError(f"--samples must be at least 2, not {samples}")
    valid = load_split(folder, "valid", artist.image_size)
    result = {"model": "gan", "checkpoint": str(artist.path), "split": "valid", "valid_images": len(valid)}
    fake = artist.sample(samples, seed)
    train = load_split(folder, "train", artist.image_size).images
    result.update({"samples": samples, **gan_quality(fake, valid.images)})
    reference = gan_quality(to_unit(train[:len(valid)]), valid.images)
    result.update({f"real_{k}": v for k, v in reference.items()})
    result.update(memorisation(fake, train, valid.images, artist.device))
    return result


def memorisation(fake: torch.Tensor, train: torch.Tensor, valid: torch.Tensor, device: torch.device) -> dict:
    """Nearest-training-face distances of samples against those of valid faces (never trained on)."""
    train_flat = torch.cat([_flat(to_unit(chunk)) for chunk in train.split(4096)])
    to_fake = nearest_distances(_flat(fake), train_flat, device)
    to_valid = nearest_distances(_flat(to_unit(valid)), train_flat, device)
    return {"nn_train_distance_samples": to_fake.mean().item(), "nn_train_distance_valid": to_valid.mean().item(),
            "nn_ratio": (to_fake.mean() / to_valid.mean()).item(),
            "samples_closer_than_any_valid": (to_fake < to_valid.min()).float().mean().item()}
