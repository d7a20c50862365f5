import pytest
import torch

from core.models.gpt import GPT, GPTConfig, OneTokenStep


def small(**kw):
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=97, block_size=24, n_layer=2, n_head=2, n_embd=16, dropout=0.0, **kw)).eval()


def test_shapes_and_loss():
    model = small()
    x = torch.randint(0, 97, (3, 24))
    logits, loss = model(x, x)
    assert logits.shape == (3, 24, 97)
    assert loss.ndim == 0 and loss.item() > 0
    assert model(x)[1] is None


def test_output_weights_are_tied():
    model = small()
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()


@pytest.mark.parametrize("position", ["learned", "rope"])
def test_attention_is_causal(position):
    model = small(position=position)
    x = torch.randint(0, 97, (1, 20))
    y = x.clone()
    y[0, 12:] = (y[0, 12:] + 1) % 97  # change only the future
    a, _ = model(x)
    b, _ = model(y)
    assert torch.allclose(a[0, :12], b[0, :12], atol=1e-6)
    assert not torch.allclose(a[0, 12:], b[0, 12:])


@pytest.mark.parametrize("shape", [{}, {"position": "rope"}, {"position": "rope", "mlp": "swiglu"}])
@pytest.mark.parametrize("chunks", [[20], [1] * 20, [7, 1, 1, 5, 6], [3, 9, 8]])
def test_kv_cache_equals_full_forward(chunks, shape):
    model = small(**shape)
    x = torch.randint(0, 97, (2, sum(chunks)))
    full, _ = model(x)
    cache = model.new_cache()
    parts, at = [], 0
    for n in chunks:
        parts.append(model(x[:, at:at + n], cache=cache)[0])
        at += n
    assert len(cache) == x.size(1)
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5)


@pytest.mark.parametrize("shape", [{}, {"position": "rope"}, {"position": "rope", "mlp": "swiglu"}, {"bias": False},
                                   {"gelu": "tanh"}])
def test_one_token_step_equals_the_full_forward(shape):
    model = small(**shape)
    x = torch.randint(0, 97, (3, 24))
    full, _ = model(x)
    cache, step = model.new_cache(), OneTokenStep(model)
    model(x[:, :5], cache=cache)  # a prompt, then one token at a time up to the full context
    for t in range(5, 24):
        hidden = step(x[:, t], cache)
        assert torch.allclose(model.lm_head(hidden), full[:, t], atol=1e-5)
    assert len(cache) == 24
    with pytest.raises(ValueError, match="exceeds the context"):
        step(x[:, 0], cache)


def test_cache_rows_can_be_copied_and_dropped():
    model = small(position="rope")
    x = torch.randint(0, 97, (1, 10))
    cache = model.new_cache()
    model(x[:, :6], cache=cache)
    cache.select(torch.tensor([0, 0, 0]))  # one prompt read, three continuations
    nxt, step = torch.tensor([1, 2, 3]), OneTokenStep(model)
    rows = model.lm_head(step(nxt, cache))
    for i, t in enumerate(nxt.tolist()):
        alone = model(torch.cat([x[:, :6], torch.tensor([[t]])], 1))[0][0, -1]
        assert torch.allclose(rows[i], alone, atol=1e-5)
    cache.select(torch.tensor([2, 0]))
    rows = model.lm_head(step(torch.tensor([4, 5]), cache))
    assert torch.allclose(rows[0], model(torch.cat([x[:, :6], torch.tensor([[3, 4]])], 1))[0][0, -1], atol=1e-5)
    assert torch.allclose(rows[1], model(torch.cat([x[:, :6], torch.tensor([[1, 5]])], 1))[0][0, -1], atol=1e-5)


def test_context_overflow_is_an_error():
    model = small()
    with pytest.raises(ValueError, match="exceeds the context"):
        model(torch.zeros(1, 25, dtype=torch.long))
    cache = model.new_cache()
    model(torch.zeros(1, 24, dtype=torch.long), cache=cache)
    with pytest.raises(ValueError):
        model(torch.zeros(1, 1, dtype=torch.long), cache=cache)


def test_dropout_only_in_training():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=50, block_size=8, n_layer=1, n_head=2, n_embd=16, dropout=0.5))
    x = torch.randint(0, 50, (2, 8))
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])


def test_rope_has_no_position_weights_and_sees_relative_order():
    learned, rope = small(), small(position="rope")
    assert "transformer.wpe.weight" in learned.state_dict()
    assert not any("wpe" in k or "rope" in k for k in rope.state_dict())
    # the same tokens in another order give other logits: positions reach the attention
    x = torch.randint(0, 97, (1, 10))
    assert not torch.allclose(rope(x)[0][0, -1], rope(x.flip(1))[0][0, -1])


def test_rotation_keeps_lengths_and_relative_dot_products():
    from core.models.gpt import rope_tables, rotate

    config = GPTConfig(vocab_size=16, block_size=16, n_layer=1, n_head=1, n_embd=8, position="rope")
    cos, sin = rope_tables(config)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)
    at = lambda x, p: rotate(x, cos[p:p + 1], sin[p:p + 1])
    assert torch.allclose(at(q, 5).norm(), q.norm(), atol=1e-5)
    # q at 7 against k at 3 scores as q at 12 against k at 8: only the distance counts
    assert torch.allclose((at(q, 7) * at(k, 3)).sum(), (at(q, 12) * at(k, 8)).sum(), atol=1e-5)


def test_swiglu_holds_no_more_parameters_than_gelu():
    def mlp_params(kind):
        config = GPTConfig(vocab_size=64, block_size=8, n_layer=1, n_head=4, n_embd=256, mlp=kind)
        return sum(p.numel() for p in GPT(config).transformer.h[0].mlp.parameters())

    gelu, swiglu = mlp_params("gelu"), mlp_params("swiglu")
    assert 0.95 * gelu < swiglu <= gelu
    x = torch.randn(2, 5, 16)
    mlp = small(mlp="swiglu").transformer.h[0].mlp
    gate, up = mlp.c_fc(x).chunk(2, dim=-1)
    assert torch.allclose(mlp(x), mlp.c_proj(torch.nn.functional.silu(gate) * up))


def test_unknown_shapes_are_refused():
    shape = dict(vocab_size=16, block_size=8, n_layer=1, n_head=1, n_embd=8)
    with pytest.raises(ValueError, match="position"):
        GPTConfig(**shape, position="alibi")
    with pytest.raises(ValueError, match="mlp"):
        GPTConfig(**shape, mlp="relu")
