"""The pinned int8 YuNet file as onnxruntime loads it, edited in memory (standard library only).

onnxruntime refuses two things in OpenCV Zoo's int8 YuNet, which OpenCV itself accepts: its
DequantizeLinear nodes with a one-element (per-tensor) scale also carry a `block_size`, which
ONNX allows only for blocked quantization; and the input is declared 1×3×640×640 where the
network takes any size that is a multiple of 32. `for_onnxruntime` drops those `block_size`
attributes (the arithmetic of a per-tensor dequantization does not use it) and frees the input's
height and width (and the outputs' anchor count, which follows them). Nothing else changes: the
weights, and so every result, are the pinned file's (tests/unit/test_facekit_yunet_sface.py
compares with cv2.FaceDetectorYN on the same file).

It edits the protobuf wire format directly, so neither the `onnx` package nor protobuf is needed
where the crop runs; only the few ModelProto fields below are read.
"""

from __future__ import annotations

from math import prod

# ModelProto.graph; GraphProto.node / initializer / input / output / value_info; NodeProto.input /
# op_type / attribute; AttributeProto.name; TensorProto.dims; ValueInfoProto.type → TypeProto.
# tensor_type → shape → dim → dim_value / dim_param (onnx.proto field numbers).
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_VALUE_INFO = 1, 5, 11, 12, 13
_NODE_INPUT, _NODE_OP_TYPE, _NODE_ATTRIBUTE = 1, 4, 5
_ATTRIBUTE_NAME = 1
_TENSOR_DIMS, _TENSOR_NAME = 1, 8
_VALUE_TYPE, _TYPE_TENSOR, _TENSOR_TYPE_SHAPE, _SHAPE_DIM = 2, 1, 2, 1
_DIM_VALUE, _DIM_PARAM = 1, 2

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
Field = tuple[int, int, int | bytes]  # field number, wire type, value


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def parse(data: bytes) -> list[Field]:
    """One message's fields in order (nested messages stay bytes)."""
    fields, at = [], 0
    while at < len(data):
        key, at = _varint(data, at)
        number, kind = key >> 3, key & 7
        if kind == _VARINT:
            value, at = _varint(data, at)
        elif kind == _LENGTH:
            size, at = _varint(data, at)
            value, at = data[at : at + size], at + size
        elif kind in (_FIXED64, _FIXED32):
            width = 8 if kind == _FIXED64 else 4
            value, at = data[at : at + width], at + width
        else:
            raise ValueError(f"unsupported wire type {kind} in field {number}")
        fields.append((number, kind, value))
    return fields


def serialize(fields: list[Field]) -> bytes:
    out = bytearray()
    for number, kind, value in fields:
        out += _encode_varint(number << 3 | kind)
        if kind == _VARINT:
            out += _encode_varint(value)
        elif kind == _LENGTH:
            out += _encode_varint(len(value)) + value
        else:
            out += value
    return bytes(out)


def _values(fields: list[Field], number: int) -> list:
    return [value for n, _, value in fields if n == number]


def _dims(tensor: list[Field]) -> list[int]:
    dims = []
    for _, kind, value in (f for f in tensor if f[0] == _TENSOR_DIMS):
        if kind == _VARINT:
            dims.append(value)
        else:  # packed
            at = 0
            while at < len(value):
                dim, at = _varint(value, at)
                dims.append(dim)
    return dims


def _edit(fields: list[Field], number: int, change) -> list[Field]:
    """`fields` with every length-delimited `number` field's bytes passed through `change`
    (which returns new bytes, or None to drop the field)."""
    out = []
    for field in fields:
        if field[0] == number and field[1] == _LENGTH:
            value = change(field[2])
            if value is None:
                continue
            field = (number, _LENGTH, value)
        out.append(field)
    return out


def _free_dims(value_info: bytes, names: dict[int, bytes]) -> bytes:
    """A ValueInfoProto whose dims at `names`' indices become named (any size)."""

    def shape(data: bytes) -> bytes:
        dims = _values(parse(data), _SHAPE_DIM)
        kept = [
            serialize([(_DIM_PARAM, _LENGTH, names[i])]) if i in names else dim
            for i, dim in enumerate(dims)
        ]
        return serialize([(_SHAPE_DIM, _LENGTH, dim) for dim in kept])

    def tensor(data: bytes) -> bytes:
        return serialize(_edit(parse(data), _TENSOR_TYPE_SHAPE, shape))

    def type_proto(data: bytes) -> bytes:
        return serialize(_edit(parse(data), _TYPE_TENSOR, tensor))

    return serialize(_edit(parse(value_info), _VALUE_TYPE, type_proto))


def for_onnxruntime(model: bytes) -> bytes:
    """The YuNet model bytes onnxruntime loads (see the module's docstring)."""
    fields = parse(model)
    (graph_bytes,) = _values(fields, _MODEL_GRAPH)
    graph = parse(graph_bytes)
    shapes = {}
    for tensor_bytes in _values(graph, _GRAPH_INITIALIZER):
        tensor = parse(tensor_bytes)
        (name,) = _values(tensor, _TENSOR_NAME)
        shapes[name] = _dims(tensor)

    def node(data: bytes) -> bytes:
        node_fields = parse(data)
        inputs = _values(node_fields, _NODE_INPUT)
        scale = shapes.get(inputs[1]) if len(inputs) > 1 else None
        # A scalar or one-element 1-D scale is per-tensor (a (1, 1) one is a block, kept).
        per_tensor = _values(node_fields, _NODE_OP_TYPE) == [b"DequantizeLinear"] and (
            scale is not None and len(scale) <= 1 and prod(scale) == 1
        )
        if not per_tensor:
            return data

        def attribute(attr: bytes) -> bytes | None:
            return None if _values(parse(attr), _ATTRIBUTE_NAME) == [b"block_size"] else attr

        return serialize(_edit(node_fields, _NODE_ATTRIBUTE, attribute))

    graph = _edit(graph, _GRAPH_NODE, node)
    graph = _edit(graph, _GRAPH_INPUT, lambda v: _free_dims(v, {2: b"height", 3: b"width"}))
    graph = _edit(graph, _GRAPH_OUTPUT, lambda v: _free_dims(v, {1: b"anchors"}))
    graph = _edit(graph, _GRAPH_VALUE_INFO, lambda v: None)  # shapes inferred for 640² only
    return serialize(_edit(fields, _MODEL_GRAPH, lambda _: serialize(graph)))
