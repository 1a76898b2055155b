"""ONNX graphs rewritten into the same function in operations ONNX Runtime's CPU kernels run faster.

Decision (quoted in the README): ONNX Runtime profiles segmentation networks exported the usual way
(Keras, PyTorch, our export before this) as spending up to half their time in the final `Softmax`
over the channel axis of an NCHW output: its kernel works row by row, and a row here is the 5
classes of one pixel. The same softmax written as `exp(x - max) / sum(exp(x - max))` with reductions
over that axis runs as whole-tensor element-wise kernels, and the bundled model then takes about half
the time per tile (bench/results/peers.md). Our export writes the rewritten graph, and the engine
rewrites any other ONNX file (Deepness' model zoo's) in memory when the `onnx` package is installed;
without it the file runs as it is, correctly, only slower.
"""
from __future__ import annotations

from typing import Any

SOFTMAX_AXIS_OPSET = 13   # from opset 13 Softmax normalises one axis; before, every axis from it on


def rewrite_channel_softmax(model: Any) -> int:
    """Rewrite, in place, each Softmax over axis 1 of a 4-D tensor of the onnx `ModelProto`; returns
    how many were rewritten (0 when there is nothing to gain or the graph's meaning would change)."""
    import numpy as np
    from onnx import helper, numpy_helper, shape_inference

    opset = next((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 0)
    if opset < SOFTMAX_AXIS_OPSET:
        return 0
    graph = model.graph
    inferred = shape_inference.infer_shapes(model).graph
    ranks = {value.name: len(value.type.tensor_type.shape.dim)
             for value in [*inferred.value_info, *inferred.output, *inferred.input]
             if value.type.HasField("tensor_type") and value.type.tensor_type.HasField("shape")}
    rewritten = 0
    for index in range(len(graph.node) - 1, -1, -1):
        node = graph.node[index]
        axis = next((attribute.i for attribute in node.attribute if attribute.name == "axis"), -1)
        if node.op_type != "Softmax" or node.domain not in ("", "ai.onnx") or ranks.get(node.output[0]) != 4 \
                or axis not in (1, -3):
            continue
        prefix = f"{node.name or node.output[0]}/channel_softmax"
        axes = numpy_helper.from_array(np.array([1], np.int64), f"{prefix}/axes")
        graph.initializer.append(axes)
        # ReduceMax takes its axes as an input from opset 18, ReduceSum from opset 13
        max_inputs, max_attributes = ([node.input[0], axes.name], {}) if opset >= 18 else ([node.input[0]],
                                                                                           {"axes": [1]})
        replacement = [
            helper.make_node("ReduceMax", max_inputs, [f"{prefix}/max"], keepdims=1, **max_attributes),
            helper.make_node("Sub", [node.input[0], f"{prefix}/max"], [f"{prefix}/shifted"]),
            helper.make_node("Exp", [f"{prefix}/shifted"], [f"{prefix}/exp"]),
            helper.make_node("ReduceSum", [f"{prefix}/exp", axes.name], [f"{prefix}/sum"], keepdims=1),
            helper.make_node("Div", [f"{prefix}/exp", f"{prefix}/sum"], [node.output[0]]),
        ]
        del graph.node[index]
        for offset, new in enumerate(replacement):
            graph.node.insert(index + offset, new)
        rewritten += 1
    return rewritten


def faster_model_bytes(path: str) -> bytes | None:
    """The file's model with its channel softmax rewritten, serialised for ONNX Runtime; None when
    the `onnx` package is missing or there is nothing to rewrite (run the file as it is)."""
    import importlib.util
    if importlib.util.find_spec("onnx") is None:
        return None
    import onnx
    model = onnx.load(path)
    return model.SerializeToString() if rewrite_channel_softmax(model) else None
