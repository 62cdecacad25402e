"""Exporters: checkpoint -> ONNX (+fp16/int8) -> TensorRT, and TFLite -> ONNX (installed as livefake.exporters)."""
