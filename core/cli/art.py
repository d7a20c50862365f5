"""`inkhorn` subcommands of the picture models: `art vae|gan ...`, and train / eval / bench for vae and gan.

Every `art` command writes one PNG grid (and, with --each, every picture) into
the output folder (--out, else $INKHORN_OUTPUT_DIR, else ./outputs), never over
an existing file, with the seed and parameters in the PNG's text chunks; it
prints the paths on stdout and, with --preview, the grid in half blocks.
"""
from __future__ import annotations

import sys
from pathlib import Path

from core.art.arithmetic import ARITHMETIC_STRENGTH, GROUPS
from core.catalog import by_kind
from core.cli.common import (
    add_config_flags,
    add_loop_flags,
    from_flags,
    loop_config,
    notice,
    print_result,
    run_paths,
    say,
)
from core.limits import MAX_IMAGES, capped, check_seed
from core.train.recipes import ANIME_GAN, FACES_VAE

RECIPES = {"vae": FACES_VAE, "gan": ANIME_GAN}
CONFIG_FLAGS = {
    "vae": {
        "--image-size": ("image_size", "pixels a side"),
        "--base-channels": ("base_channels", "channels of the first convolution"),
        "--latent-dim": ("latent_dim", "latent dimensions"),
        "--beta": ("beta", "weight of the KL term"),
    },
    "gan": {
        "--image-size": ("image_size", "pixels a side"),
        "--latent-dim": ("latent_dim", "latent dimensions"),
        "--g-channels": ("g_channels", "generator channels before the picture"),
        "--d-channels": ("d_channels", "discriminator channels after its first layer"),
    },
}
DATA_FLAGS = {
    "--data": ("folder", "folder of train*.zip and valid.zip (and csv labels for faces)"),
    "--batch-size": ("batch_size", "pictures a step"),
}


def register(sub, train, evaluate, bench) -> None:
    """Add this family's commands to the top-level parser and to train / eval / bench."""
    art = sub.add_parser("art", help="pictures from the face VAE and the anime-face GAN")
    models = art.add_subparsers(dest="art_model", required=True)
    groups = ", ".join(GROUPS)
    vae = models.add_parser("vae", help="the face VAE: sample, interpolate, arithmetic, reconstruct",
                            epilog=by_kind("vae").licence).add_subparsers(dest="action", required=True)
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
                            epilog=by_kind("gan").licence).add_subparsers(dest="action", required=True)
    p = gan.add_parser("sample", help="faces from random latents")
    _count(p, 16)
    p = gan.add_parser("interpolate", help="faces along the great circle between two random latents")
    p.add_argument("--steps", type=int, default=8, help="pictures on the way, both ends included")
    p.add_argument("--seed", type=int, help="the two end latents are pictures 0 and 1 of `art gan sample --seed`")
    for model, actions in (("vae", vae), ("gan", gan)):
        for p in actions.choices.values():
            p.set_defaults(func=cmd_art, art_model=model)
            p.add_argument("--checkpoint", help=f"a .safetensors file (default: the shipped {by_kind(model).file})")
            p.add_argument("--out", help="output folder (default: $INKHORN_OUTPUT_DIR or ./outputs)")
            p.add_argument("--each", action="store_true", help="also write every picture as its own PNG")
            p.add_argument("--preview", action="store_true", help="print the grid in the terminal (half blocks)")
            p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")

    for model, help_text in (("vae", "the face VAE"), ("gan", "the anime-face DCGAN")):
        recipe = RECIPES[model]
        p = train.add_parser(model, help=help_text, epilog=by_kind(model).licence)
        p.set_defaults(func=cmd_train)
        add_config_flags(p, recipe.config, CONFIG_FLAGS[model])
        add_config_flags(p, recipe.data, DATA_FLAGS)
        p.add_argument("--limit", type=int, help="use at most this many training pictures")
        add_loop_flags(p, recipe)

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
        p.add_argument("--checkpoint", help=f"default: the shipped {by_kind(model).file}")
        p.add_argument("--data", default=RECIPES[model].data.folder, help="data folder (default: %(default)s)")
        p.add_argument("--json", action="store_true", help="print a JSON object")
        p.add_argument("--device")
    for model in ("vae", "gan"):
        p = bench.add_parser(model, help="pictures per second when sampling, by batch size")
        p.set_defaults(func=cmd_bench)
        p.add_argument("--checkpoint", help=f"default: the shipped {by_kind(model).file}")
        p.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64])
        p.add_argument("--json", action="store_true", help="print a JSON object")
        p.add_argument("--device")


def _count(p, default: int) -> None:
    p.add_argument("-n", type=int, default=default, help=f"how many pictures (at most {MAX_IMAGES})")
    p.add_argument("--seed", type=int, help="fix the seed to reproduce the pictures (the seed used is printed)")


def _capped(value: int, what: str, least: int = 1) -> int:
    value, note = capped(value, what, MAX_IMAGES, least)
    if note:
        say(f"note: {note}", file=sys.stderr)
    return value


def cmd_art(args) -> int:
    import torch

    from core.art.artists import load_artist
    from core.art.png import save_each, save_grid
    from core.catalog import output_dir
    from core.text.sampling import new_seed

    model, action = args.art_model, args.action
    seed = getattr(args, "seed", None)
    seed = new_seed() if seed is None else check_seed(seed, "--seed")
    if action == "sample":
        n = _capped(args.n, "-n")
    elif action == "interpolate":
        n = _capped(args.steps, "--steps", least=2)
    artist = load_artist(model, args.checkpoint, args.device)
    meta = {"model": model, "command": action, "checkpoint": artist.path.name, "licence": by_kind(model).licence}
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
        pictures, cols = torch.cat([originals, reconstructions]), len(originals)
        meta.update(images=[Path(p).name for p in args.images], layout="originals over reconstructions")
    folder = Path(args.out) if args.out else output_dir()
    path = save_grid(pictures, folder, meta, name=name, cols=cols)
    if args.preview:
        from rich.console import Console

        from core.art.halfblock import halfblock
        from core.art.png import grid, pixels

        console = Console()
        picture = grid(pixels(pictures), cols)
        console.print(halfblock(picture, min(console.width, picture.shape[1])))
    say(path)
    if args.each:
        for each in save_each(pictures, folder, meta, path.stem):
            say(each)
    shown = f"seed {seed} · " if "seed" in meta else ""
    say(f"[{model} · {action} · {shown}{len(pictures)} pictures · {artist.device}]", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from dataclasses import replace

    dev, cfg = loop_config(args)
    out, run_dir = run_paths(args)
    recipe = RECIPES[args.model]
    data = replace(from_flags(recipe.data, args, DATA_FLAGS), limit=args.limit)
    config = from_flags(recipe.config, args, CONFIG_FLAGS[args.model])
    notice(f"data: {data.folder}\nnote: {by_kind(args.model).licence}")
    if args.model == "vae":
        from core.train.loop import train
        from core.train.vae import VAETask

        task = VAETask(config, data, cfg, dev.device, run_dir, fresh=args.fresh)
        params = task.model.num_params()
        run = train
    else:
        from core.train.gan import GANTask, train_gan

        task = GANTask(config, data, cfg, dev.device, run_dir, fresh=args.fresh)
        params = task.generator.num_params()
        run = train_gan
    notice(f"model: {params / 1e6:.2f}M parameters (shipped); {len(task.batches.images)} training pictures; "
           f"writing {out} (run folder {run_dir})")
    run(task, cfg, out, dev.device, resume=not args.fresh, run_dir=run_dir)
    from core.train.distributed import current_shard

    if current_shard().main:
        notice(f"loss curve: {task.plot()}")
    return 0


def cmd_eval(args) -> int:
    from core.art.artists import load_artist
    from core.art.metrics import evaluate_gan, evaluate_vae

    artist = load_artist(args.model, args.checkpoint, args.device)
    if args.model == "vae":
        result = evaluate_vae(artist, args.data, args.split, args.judges, args.judge_steps, args.strength)
    else:
        result = evaluate_gan(artist, args.data, args.samples, args.seed)
    print_result(result, args.json)
    return 0


def cmd_bench(args) -> int:
    import torch

    from core.art.artists import load_artist
    from core.bench import sampling_speed

    artist = load_artist(args.model, args.checkpoint, args.device)
    runs = [sampling_speed(artist, _capped(b, "--batch")) for b in args.batch]
    result = {"model": args.model, "device": str(artist.device), "threads": torch.get_num_threads(),
              "params": artist.num_params(), "runs": runs}
    print_result(result, args.json)
    return 0
