"""The recipes of the shipped models: every value `inkhorn train <kind>` starts from, and why.

One named object per shipped model, as nanoGPT's config/train_shakespeare_char.py;
the command line's defaults read these, so a recipe changes here and nowhere
else. Where a shipped checkpoint went through more than one run (a
continuation, an average of snapshots), README's "Models" section gives the
commands that follow this first one.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.catalog import SHARED_DATA, asset
from core.models.dcgan import DCGANConfig
from core.models.gpt import GPTConfig
from core.models.lstm import LSTMConfig
from core.models.translator import TranslatorConfig
from core.models.vae import VAEConfig
from core.train.gpt import GPTData
from core.train.loop import TrainConfig
from core.train.lstm import LSTMData
from core.train.pictures import ImageData
from core.train.translator import TranslatorData


@dataclass(frozen=True)
class Recipe:
    model: str       # the catalog name of the model it makes
    config: object   # the model's config (vocabulary sizes are set by the tokenizer the run trains)
    data: object     # what the trainer reads
    loop: TrainConfig


HEMINGWAY = Recipe(
    model="hemingway",
    config=GPTConfig(
        vocab_size=4096,     # BPE pieces; about 1.2 MB of Hemingway leaves rarer pieces untrained
        block_size=512,      # a page of dialogue; rotary positions make the longer context free of parameters
        n_layer=6, n_head=4, n_embd=256,  # 5.7M parameters: 11 MiB at fp16, within a file's 12 MiB
        dropout=0.2,         # the ~300k Hemingway tokens are read about 25 times: regularise
        position="rope",     # with the 512 context and SwiGLU: 1.4515 bits/char on valid against GELU's 1.4658
        mlp="swiglu",        # about 8/3 wide, no more parameters than GELU's 4x
    ),
    data=GPTData(
        train=str(asset("hemingway", "train.txt.xz")),
        valid=str(asset("hemingway", "valid.txt.xz")),
        vocab_size=4096,
        batch_size=8,        # 4,096 tokens a step: what two CPU cores train at a few steps a second
        # Hemingway alone overfits within a few hundred steps: half of every batch is other English prose,
        # each window opened by its corpus's source token so the model keeps Hemingway's voice
        pretrain=[str(asset("anna", "train.txt.xz")), str(asset("en-fr", "train.tsv.xz"))],
        pretrain_frac=1.0,   # mixing to the end: ending on Hemingway alone gained nothing
        source_tokens=True,
    ),
    loop=TrainConfig(max_steps=3000, lr=1e-3, min_lr=1e-5, warmup_steps=200, weight_decay=0.1,
                     eval_every=250),  # tagged from the start: 1.4504 at its last step (3,600 untagged: 1.4515)
)

ANNA = Recipe(
    model="anna",
    config=LSTMConfig(
        vocab_size=4096,     # its own BPE on Anna Karenina
        n_embd=480, n_hidden=480, n_layer=2,  # 5.7M parameters, the same budget as the GPT
        bptt=128,            # tokens per truncated-backprop segment; the state carries past it
        dropout=0.3,         # between the layers and before the output: recurrent nets overfit fast
        cell="lstm",
    ),
    data=LSTMData(train=str(asset("anna", "train.txt.xz")), valid=str(asset("anna", "valid.txt.xz")),
                  vocab_size=4096, batch_size=32),  # 32 streams x 128 tokens a step
    loop=TrainConfig(max_steps=4000, lr=2e-3, min_lr=2e-4, warmup_steps=200, weight_decay=0.1, eval_every=250),
)

EN_FR = Recipe(
    model="en-fr",
    config=TranslatorConfig(
        vocab_size=4000,     # one BPE for English and French: the shared embedding serves both
        d_model=192, n_head=4, n_encoder_layer=3, n_decoder_layer=2, d_ff=512,  # 2.8M parameters, 5.4 MiB
        max_len=128,         # tokens per side; Tatoeba's longest pairs fit
        dropout=0.1,
    ),
    data=TranslatorData(
        train=str(asset("en-fr", "train.tsv.xz")),
        valid=str(asset("en-fr", "valid.tsv.xz")),
        vocab_size=4000,
        tokens_per_batch=8192,  # padded tokens a side, batches of similar lengths
        max_sentences=1024,     # a cap for the batches of very short sentences
        eval_sentences=1000,    # greedy BLEU on the first 1,000 valid sentences picks the best step
        label_smoothing=0.1,    # as the paper
    ),
    loop=TrainConfig(max_steps=12000, lr=1e-3, min_lr=1e-4, warmup_steps=400, weight_decay=0.1,
                     eval_every=1000),  # BLEU still crept up at 9,000 steps; 12,000 gave 50.75 (beam 4)
)

FACES_VAE = Recipe(
    model="faces-vae",
    config=VAEConfig(
        image_size=64,
        base_channels=20,    # 1.2M parameters, 2 MiB
        latent_dim=80,       # with beta 0.35: arithmetic judged right for 79.9% of valid faces (64-dim: 79.6%)
        beta=0.35,           # below 1: sharper faces and group means far enough apart to move along
    ),
    data=ImageData(folder=str(SHARED_DATA / "faces"), batch_size=64),
    loop=TrainConfig(max_steps=12000, lr=1e-3, min_lr=1e-4, warmup_steps=200, weight_decay=0.0, eval_every=250),
)

ANIME_GAN = Recipe(
    model="anime-gan",
    config=DCGANConfig(
        image_size=64,
        latent_dim=100,      # the DCGAN paper's
        g_channels=32, d_channels=32,  # 1.1M generator parameters, 2.1 MiB
    ),
    data=ImageData(folder=str(SHARED_DATA / "anime"), batch_size=64),
    # the DCGAN paper's rate, decaying to a tenth; it collapsed towards one face after about 6,000 steps
    loop=TrainConfig(max_steps=6000, lr=2e-4, min_lr=2e-5, warmup_steps=0, weight_decay=0.0, eval_every=500),
)

RECIPES = {recipe.model: recipe for recipe in (HEMINGWAY, ANNA, EN_FR, FACES_VAE, ANIME_GAN)}
