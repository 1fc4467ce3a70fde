"""A stand-in Wav2Lip-style ONNX model, built here because no real one is installable: it returns the
reference crop with its mouth region darkened as loud as the mel window's loudest band is (silence: the crop unchanged),
so a test can see from the pixels that the driver, and the audio it was given, drew the mouth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# The mouth region of a 96×96 face crop: rows 60-84, columns 28-68 (where Wav2Lip's crops put the lips).
MOUTH = (slice(60, 84), slice(28, 68))
DARKEST = 0.8  # how much a mel window at full loudness (0 dB above the floor, scaled +4) darkens it


def build(path: Path, mel_shape: tuple[int, ...] = (1, 1, 80, 16), face_shape: tuple[int, ...] = (1, 6, 96, 96),
          ) -> Path:
    """Write the stand-in to `path`; other shapes make a model the driver must refuse."""
    mask = np.zeros((1, 3, 96, 96), np.float32)
    mask[:, :, MOUTH[0], MOUTH[1]] = DARKEST
    starts, ends, axes = (np.array(v, np.int64) for v in ([3], [6], [1]))
    nodes = [
        helper.make_node("ReduceMax", ["mel"], ["level"], keepdims=0),  # its loudest band: -4 (silence) .. 4
        helper.make_node("Add", ["level", "four"], ["raised"]),
        helper.make_node("Div", ["raised", "eight"], ["loud"]),  # 0 .. 1
        helper.make_node("Slice", ["face", "starts", "ends", "axes"], ["reference"]),
        helper.make_node("Mul", ["mask", "loud"], ["shade"]),
        helper.make_node("Sub", ["one", "shade"], ["keep"]),
        helper.make_node("Mul", ["reference", "keep"], ["out"]),
    ]
    consts = [numpy_helper.from_array(np.array(v, np.float32), name) for name, v in
              (("four", 4.0), ("eight", 8.0), ("one", 1.0))]
    consts += [numpy_helper.from_array(mask, "mask"), numpy_helper.from_array(starts, "starts"),
               numpy_helper.from_array(ends, "ends"), numpy_helper.from_array(axes, "axes")]
    graph = helper.make_graph(
        nodes, "wav2lip-standin",
        [helper.make_tensor_value_info("mel", TensorProto.FLOAT, list(mel_shape)),
         helper.make_tensor_value_info("face", TensorProto.FLOAT, list(face_shape))],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 96, 96])], consts)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path
