"""`inkhorn` subcommands of the picture models: `art vae|gan ...`, and train / eval / bench for vae and gan.

Every `art` command writes one PNG grid (and, with --each, every picture) into
the output folder (--out, else $INKHORN_OUTPUT_DIR, else ./outputs), never over
an existing file, with the seed and parameters in the PNG's text chunks; it
prints the paths on stdout and, with --preview, the grid in half blocks.
"""
from __future__ import annotations

import sys
from pathlib import Path

from core.art import (
    ARITHMETIC_STRENGTH,
    GAN_CHECKPOINT,
    GROUPS,
    LICENCES,
    MAX_IMAGES,
    VAE_CHECKPOINT,
)
from core.cli_common import add_loop_flags, loop_config, notice, print_result

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEFAULT_DATA = {"vae": SHARED_DATA / "faces", "gan": SHARED_DATA / "anime"}
DEFAULT_RUN = {"vae": "runs/faces-vae", "gan": "runs/anime-gan"}
DEFAULT_CHECKPOINT = {"vae": f"checkpoints/{VAE_CHECKPOINT}", "gan": f"checkpoints/{GAN_CHECKPOINT}"}


def register(sub, train, evaluate, bench) -> None:
    """Add this family's commands to the top-level parser and to train / eval / bench."""
    art = sub.add_parser("art", help="pictures from the face VAE and the anime-face GAN")
    models = art.add_subparsers(dest="art_model", required=True)
    groups = ", ".join(GROUPS)
    vae = models.add_parser("vae", help="the face VAE: sample, interpolate, arithmetic, reconstruct",
                            epilog=LICENCES["vae"]).add_subparsers(dest="action", required=True)
    p = vae.add_parser("sample", help="faces from random latents")
    _count(p, 16)
    p = vae.add_parser("interpolate", help="faces along the line between two latents")
    p.add_argument("start", help=f"a group ({groups}) or an image file")
    p.add_argument("end", help="a group or an image file")
    p.add_argument("--steps", type=int, default=6, help="pictures on the way, both ends included")
    p = vae.add_parser("arithmetic", help="add and subtract latents, e.g. 'men_glasses - women_glasses + "
                       "women_noglasses'", description=f"Terms are groups ({groups}) or image files.")
    p.add_argument("expression", nargs="+", help="the sum to decode (quote it, or leave spaces around + and -)")
    p.add_argument("--strength", type=float, default=ARITHMETIC_STRENGTH,
                   help="how far the last term moves along the direction of the others: 'a - b + c' is "
                        "c + strength * (a - b); 1 is the plain sum (default: %(default)s)")
    p = vae.add_parser("reconstruct", help="encode pictures and decode them again (originals over reconstructions)")
    p.add_argument("images", nargs="+", help="image files (cropped to a square and resized)")
    gan = models.add_parser("gan", help="the anime-face GAN: sample, interpolate",
                            epilog=LICENCES["gan"]).add_subparsers(dest="action", required=True)
    p = gan.add_parser("sample", help="faces from random latents")
    _count(p, 16)
    p = gan.add_parser("interpolate", help="faces along the great circle between two random latents")
    p.add_argument("--steps", type=int, default=8, help="pictures on the way, both ends included")
    p.add_argument("--seed", type=int, help="the two end latents are pictures 0 and 1 of `art gan sample --seed`")
    for model, actions in (("vae", vae), ("gan", gan)):
        for p in actions.choices.values():
            p.set_defaults(func=cmd_art, art_model=model)
            p.add_argument("--checkpoint", help=f"a .safetensors file (default: {DEFAULT_CHECKPOINT[model]} "
                           "or $INKHORN_CHECKPOINTS)")
            p.add_argument("--out", help="output folder (default: $INKHORN_OUTPUT_DIR or ./outputs)")
            p.add_argument("--each", action="store_true", help="also write every picture as its own PNG")
            p.add_argument("--preview", action="store_true", help="print the grid in the terminal (half blocks)")
            p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")

    v = train.add_parser("vae", help="the face VAE", epilog=LICENCES["vae"])
    v.add_argument("--image-size", type=int, default=64)
    v.add_argument("--base-channels", type=int, default=20, help="channels of the first convolution")
    v.add_argument("--latent-dim", type=int, default=80)
    v.add_argument("--beta", type=float, default=0.35, help="weight of the KL term")
    add_loop_flags(v, steps=12000, lr=1e-3, batch=64)
    v.set_defaults(weight_decay=0.0)
    g = train.add_parser("gan", help="the anime-face DCGAN", epilog=LICENCES["gan"])
    g.add_argument("--image-size", type=int, default=64)
    g.add_argument("--latent-dim", type=int, default=100)
    g.add_argument("--g-channels", type=int, default=32, help="generator channels before the picture")
    g.add_argument("--d-channels", type=int, default=32, help="discriminator channels after its first layer")
    add_loop_flags(g, steps=6000, lr=2e-4, batch=64)
    g.set_defaults(warmup=0, weight_decay=0.0, eval_every=500)
    for model, p in (("vae", v), ("gan", g)):
        p.set_defaults(func=cmd_train)
        p.add_argument("--data", default=str(DEFAULT_DATA[model]),
                       help="folder of train*.zip and valid.zip (and csv labels for faces) (default: %(default)s)")
        p.add_argument("--limit", type=int, help="use at most this many training pictures")
        p.add_argument("--out", default=DEFAULT_CHECKPOINT[model], help="checkpoint to write (best on valid)")
        p.add_argument("--run-dir", default=DEFAULT_RUN[model],
                       help="sample grids, log.jsonl and loss-curve.png (default: %(default)s)")

    v = evaluate.add_parser("vae", help="reconstruction, ELBO and judged latent arithmetic on valid faces")
    v.add_argument("--judge-steps", type=int, default=800, help="training steps of the attribute classifier")
    v.add_argument("--judges", type=int, default=3,
                   help="attribute classifiers trained (seeds 0, 1, ...); the scores are their mean")
    v.add_argument("--strength", type=float, default=ARITHMETIC_STRENGTH,
                   help="arithmetic strength judged for the headline success (default: %(default)s)")
    v.add_argument("--split", default="valid", choices=("valid", "train"),
                   help="faces the scores are measured on (train: to choose settings without touching valid)")
    g = evaluate.add_parser("gan", help="distance to valid faces, diversity, colour, sharpness, memorisation")
    g.add_argument("-n", "--samples", type=int, default=1000, help="pictures generated for the comparison")
    g.add_argument("--seed", type=int, default=0)
    for model, p in (("vae", v), ("gan", g)):
        p.set_defaults(func=cmd_eval)
        p.add_argument("--checkpoint", help=f"default: {DEFAULT_CHECKPOINT[model]} or $INKHORN_CHECKPOINTS")
        p.add_argument("--data", default=str(DEFAULT_DATA[model]), help="data folder (default: %(default)s)")
        p.add_argument("--json", action="store_true", help="print a JSON object")
        p.add_argument("--device")
    for model in ("vae", "gan"):
        p = bench.add_parser(model, help="pictures per second when sampling, by batch size")
        p.set_defaults(func=cmd_bench)
        p.add_argument("--checkpoint", help=f"default: {DEFAULT_CHECKPOINT[model]} or $INKHORN_CHECKPOINTS")
        p.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64])
        p.add_argument("--json", action="store_true", help="print a JSON object")
        p.add_argument("--device")


def _count(p, default: int) -> None:
    p.add_argument("-n", type=int, default=default, help=f"how many pictures (at most {MAX_IMAGES})")
    p.add_argument("--seed", type=int, help="fix the seed to reproduce the pictures (the seed used is printed)")


def _capped(value: int, what: str, least: int = 1) -> int:
    if value < least:
        raise ValueError(f"{what} must be at least {least}, not {value}")
    if value > MAX_IMAGES:
        print(f"note: {what} capped at {MAX_IMAGES} (asked for {value})", file=sys.stderr)
        return MAX_IMAGES
    return value


def cmd_art(args) -> int:
    import numpy as np

    from core.art import grid, halfblock, save_each, save_grid
    from core.latent import load_artist
    from core.sampling import new_seed
    from core.session import output_dir

    model, action = args.art_model, args.action
    seed = getattr(args, "seed", None)
    seed = new_seed() if seed is None else seed
    if action == "sample":
        n = _capped(args.n, "-n")
    elif action == "interpolate":
        n = _capped(args.steps, "--steps", least=2)
    artist = load_artist(model, args.checkpoint, args.device)
    meta = {"model": model, "command": action, "checkpoint": artist.path.name, "licence": LICENCES[model]}
    cols, name = None, f"{model}-{action}"
    if action == "sample":
        pictures = artist.sample(n, seed)
        meta.update(seed=seed, n=n)
        name += f"-seed{seed}"
    elif action == "interpolate" and model == "gan":
        pictures, cols = artist.interpolate(n, seed), n
        meta.update(seed=seed, steps=n)
        name += f"-seed{seed}"
    elif action == "interpolate":
        pictures, cols = artist.interpolate(args.start, args.end, n), n
        meta.update({"from": args.start, "to": args.end, "steps": n})
    elif action == "arithmetic":
        text = " ".join(args.expression)
        _, expected, pictures = artist.arithmetic(text, args.strength)
        cols = len(pictures)
        meta.update(expression=text, strength=args.strength, layout="each term, then the result",
                    expected_group=expected or "")
    else:
        originals, reconstructions = artist.reconstruct(args.images)
        pictures, cols = np.concatenate([originals, reconstructions]), len(originals)
        meta.update(images=[Path(p).name for p in args.images], layout="originals over reconstructions")
    folder = Path(args.out) if args.out else output_dir()
    path = save_grid(pictures, folder, meta, name=name, cols=cols)
    if args.preview:
        from rich.console import Console

        console = Console()
        picture = grid(pictures, cols)
        console.print(halfblock(picture, min(console.width, picture.shape[1])))
    print(path)
    if args.each:
        for each in save_each(pictures, folder, meta, path.stem):
            print(each)
    shown = f"seed {seed} · " if "seed" in meta else ""
    print(f"[{model} · {action} · {shown}{len(pictures)} pictures · {artist.device}]", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from core.train.pictures import ImageData

    dev, cfg = loop_config(args)
    data = ImageData(folder=args.data, batch_size=args.batch_size, limit=args.limit)
    run_dir, out = Path(args.run_dir), Path(args.out)
    notice(f"data: {args.data}\nnote: {LICENCES[args.model]}")
    if args.model == "vae":
        from core.models.vae import VAEConfig
        from core.train.loop import train
        from core.train.vae import VAETask

        config = VAEConfig(image_size=args.image_size, base_channels=args.base_channels,
                           latent_dim=args.latent_dim, beta=args.beta)
        task = VAETask(config, data, cfg, dev.device, run_dir, fresh=args.fresh)
        params = task.model.num_params()
        run = train
    else:
        from core.models.dcgan import DCGANConfig
        from core.train.gan import GANTask, train_gan

        config = DCGANConfig(image_size=args.image_size, latent_dim=args.latent_dim, g_channels=args.g_channels,
                             d_channels=args.d_channels)
        task = GANTask(config, data, cfg, dev.device, run_dir, fresh=args.fresh)
        params = task.generator.num_params()
        run = train_gan
    notice(f"model: {params / 1e6:.2f}M parameters (shipped); {len(task.batches.images)} training pictures")
    run(task, cfg, out, dev.device, resume=not args.fresh)
    from core.train.distributed import current_shard

    if current_shard().main:
        notice(f"loss curve: {task.plot()}")
    return 0


def cmd_eval(args) -> int:
    import numpy as np
    import torch

    from core.images import load_split
    from core.latent import load_artist

    artist = load_artist(args.model, args.checkpoint, args.device)
    size = artist.image_size
    split = getattr(args, "split", "valid")
    valid = load_split(args.data, split, size)
    result = {"model": args.model, "checkpoint": str(artist.path), "split": split, f"{split}_images": len(valid)}
    if args.model == "vae":
        from core.art_metrics import (
            JUDGED_STRENGTHS,
            arithmetic_success,
            judge_accuracy,
            over_judges,
            train_judge,
            vae_scores,
        )

        if args.judges < 1:
            raise ValueError(f"--judges must be at least 1, not {args.judges}")
        result.update(vae_scores(artist.model, valid.images, artist.device))
        train_faces = load_split(args.data, "train", size)
        judges = [train_judge(train_faces, artist.device, steps=args.judge_steps, seed=s) for s in range(args.judges)]
        codes = artist.encode(valid.images.permute(0, 2, 3, 1).numpy())
        reconstructions = artist.decode(codes)
        recon = torch.from_numpy(reconstructions).permute(0, 3, 1, 2).float() / 255.0
        real = valid.images.float() / 255.0
        for name, pictures in ((split, real), ("recon", recon)):
            scores = [judge_accuracy(judge, pictures, valid, artist.device) for judge in judges]
            result.update({f"judge_{name}_{k}": round(float(np.mean([sc[k] for sc in scores])), 4) for k in scores[0]})
        result["judges"] = len(judges)
        judged = {s: over_judges([arithmetic_success(artist, judge, valid, s, codes) for judge in judges])
                  for s in sorted({*JUDGED_STRENGTHS, args.strength})}
        result.update(judged[args.strength])
        result["arithmetic_success_by_strength"] = {f"{s:g}": r["arithmetic_success"] for s, r in judged.items()}
    else:
        from core.art_metrics import gan_quality, memorisation

        if args.samples < 2:
            raise ValueError(f"--samples must be at least 2, not {args.samples}")
        n = args.samples
        fake = torch.from_numpy(artist.sample(n, args.seed)).permute(0, 3, 1, 2).float() / 255.0
        train = load_split(args.data, "train", size).images
        result.update({"samples": n, **gan_quality(fake, valid.images)})
        # what a perfect generator would score: training faces against valid faces
        reference = gan_quality(train[:len(valid)].float() / 255.0, valid.images)
        result.update({f"real_{k}": v for k, v in reference.items()})
        result.update(memorisation(fake, train, valid.images, artist.device))
    print_result(result, args.json)
    return 0


def cmd_bench(args) -> int:
    import torch

    from core.art_metrics import sampling_speed
    from core.latent import load_artist

    artist = load_artist(args.model, args.checkpoint, args.device)
    runs = [sampling_speed(artist, _capped(b, "--batch")) for b in args.batch]
    result = {"model": args.model, "device": str(artist.device), "threads": torch.get_num_threads(),
              "params": artist.num_params(), "runs": runs}
    print_result(result, args.json)
    return 0
