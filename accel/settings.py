"""The accelerator settings a model is placed with: plain data, filled in by the daemon from its `accel` section.

They travel as JSON to the face driver's own process, which places its model itself (the face worker that
starts it never imports onnxruntime).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from accel.backends import DEFAULT_ORDER, Backend

Precision = Literal["fp16", "fp32", "int8"]


@dataclass(frozen=True)
class CannOptions:
    """onnxruntime's CANN execution provider options (its documentation names and values)."""

    arena_extend_strategy: Literal["kNextPowerOfTwo", "kSameAsRequested"] = "kNextPowerOfTwo"
    npu_mem_limit: int | None = None  # bytes; None: the provider's own limit (all of the NPU's memory)
    precision_mode: str = "force_fp16"
    op_select_impl_mode: Literal["high_performance", "high_precision"] = "high_performance"


@dataclass(frozen=True)
class AccelSettings:
    order: tuple[Backend, ...] = DEFAULT_ORDER
    models: dict[str, tuple[Backend, ...]] = field(default_factory=dict)  # per-model orders that replace `order`
    device_id: int = 0  # the GPU or NPU every accelerated model uses
    tensorrt_precision: Precision = "fp16"
    cann: CannOptions = CannOptions()
    llm_gpu_layers: int = -1  # llama.cpp's n_gpu_layers when it offloads (-1: all)
    engine_cache: Path | None = None  # where TensorRT engines are kept; None: rebuilt at every start

    def order_for(self, model: str) -> tuple[tuple[Backend, ...], str]:
        """The backends `model` may use, best first, and the config key they come from."""
        if model in self.models:
            return self.models[model], f"accel.models.{model}"
        return self.order, "accel.order"

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> AccelSettings:
        data = json.loads(text)
        return cls(order=tuple(data["order"]), models={k: tuple(v) for k, v in data["models"].items()},
                   device_id=data["device_id"], tensorrt_precision=data["tensorrt_precision"],
                   cann=CannOptions(**data["cann"]), llm_gpu_layers=data["llm_gpu_layers"],
                   engine_cache=Path(data["engine_cache"]) if data["engine_cache"] else None)
