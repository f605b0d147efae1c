"""Deployment paths: torch.compile(fullgraph=True) of a small net with APA/AGLU matches eager in
values and gradients; ONNX export run by ONNX Runtime matches eager within 1e-4 on z ∈ [−100, 100]
(including the very negative region and λ near 0); torch.jit.script raises a clear TypeError."""

import pytest
import torch
from torch import nn

from aglu import AGLU, APA


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), AGLU(4), nn.Conv2d(4, 4, 1), APA())


def test_torch_compile_fullgraph_matches_eager():
    model = small_net()
    # aot_eager traces forward and backward exactly as inductor sees them, without its C++ build
    # (inductor lowers the same math in the fused kernels tested in test_functional).
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    batch = torch.randn(2, 3, 6, 6)
    expected = model(batch)
    expected.sum().backward()
    eager_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    out = compiled(batch)
    out.sum().backward()
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    for grad, parameter in zip(eager_grads, model.parameters(), strict=True):
        torch.testing.assert_close(parameter.grad, grad, rtol=1e-4, atol=1e-6)


def test_onnx_export_matches_eager(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    layers = nn.Sequential(AGLU(4, channel_dim=-1), APA(4, channel_dim=-1, kappa_init=(-1.0, 1.0)))
    with torch.no_grad():
        layers[0].lambda_.copy_(torch.tensor([0.0, 1e-4, 0.6, 5.0]))
        layers[0].kappa.copy_(torch.tensor([0.8, 1.0, 1.2, 3.0]))
    z = torch.linspace(-100, 100, 4001).unsqueeze(1).repeat(1, 4)  # (T, C)
    path = tmp_path / "aglu.onnx"
    torch.onnx.export(layers.eval(), (z,), str(path), dynamo=True, verbose=False)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: z.numpy()})
    with torch.no_grad():
        expected, hidden = layers(z), layers[0](z)
    torch.testing.assert_close(torch.from_numpy(out), expected, rtol=0, atol=1e-4)
    assert hidden[0].abs().max() < 1e-4  # z = −100: AGLU ≈ 0, not a softplus overflow


def test_jit_script_raises_a_clear_error():
    with pytest.raises(TypeError, match=r"torch\.jit\.script does not support AGLU"):
        torch.jit.script(nn.Sequential(nn.Linear(2, 2), AGLU()))
