#!/usr/bin/env python3
"""Writes the small seed inputs of Fuzz/corpus/ (python3 standard library only)."""
import gzip, json, os, struct, zlib

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def save(kind, name, data):
    with open(os.path.join(root, kind, name), "wb") as f:
        f.write(data)

# IDX: byte 0 splits the rest into the images file and the labels file (see FuzzReaders.swift).
def idx_pair(n, rows, cols, gz_images, gz_labels, labels=None):
    images = struct.pack(">4B3I", 0, 0, 8, 3, n, rows, cols) + bytes((i * 37) % 256 for i in range(n * rows * cols))
    lab = struct.pack(">4BI", 0, 0, 8, 1, n) + bytes(labels if labels is not None else [i % 10 for i in range(n)])
    if gz_images: images = gzip.compress(images, mtime=0)
    if gz_labels: lab = gzip.compress(lab, mtime=0)
    rest = images + lab
    split = (len(images) * 256 + len(rest) - 1) // len(rest)
    assert split < 256 and split * len(rest) // 256 == len(images), (split, len(images), len(rest))
    return bytes([split]) + rest

save("idx", "plain-3x4x4", idx_pair(3, 4, 4, False, False))
save("idx", "gzip-2x28x28", idx_pair(2, 28, 28, True, True))
save("idx", "gzip-images-plain-labels", idx_pair(5, 2, 3, True, False))

# PNG: chunks by hand so every colour type and bit depth appears.
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

def png(width, height, depth, colour, rows, palette=None, trns=None, interlace=0):
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))
    if palette: out += chunk(b"PLTE", palette)
    if trns: out += chunk(b"tRNS", trns)
    raw = b"".join(b"\x00" + r for r in rows)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

save("png", "gray8", png(3, 2, 8, 0, [bytes([0, 128, 255])] * 2))
save("png", "gray16", png(2, 2, 16, 0, [struct.pack(">2H", 32768, 65535)] * 2))
save("png", "gray1", png(8, 1, 1, 0, [bytes([0b10110010])]))
save("png", "rgb8", png(2, 2, 8, 2, [bytes(range(6))] * 2))
save("png", "rgba8", png(2, 1, 8, 6, [bytes([255, 0, 0, 128, 0, 255, 0, 255])]))
save("png", "palette", png(2, 2, 8, 3, [bytes([0, 1])] * 2, palette=bytes([255, 0, 0, 0, 0, 255]), trns=bytes([128])))
save("png", "huge-header", png(1_000_000, 1_000_000, 8, 0, []))

# safetensors
def st(tensors, metadata=None):
    header, blob = {}, b""
    for name, shape, values in tensors:
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata: header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + blob

save("safetensors", "two", st([("a.weight", [2, 2], [1, 2, 3, 4]), ("a.bias", [2], [0.5, -1])], {"model": "x"}))
save("safetensors", "scalar-empty", st([("s", [], [7]), ("e", [0, 3], [])]))
