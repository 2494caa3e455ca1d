"""Valid kiosk model files made from the shipped one for the fleet tests: the same network under another version
(a changed creation time), or with one label's bias moved so its answers differ. Each keeps the file's layout
and recomputes its SHA-256 trailer, so the kiosk's own checks pass."""
import hashlib
import json
import struct


def _rewrite(src, dst, change):
    with open(src, "rb") as f:
        data = bytearray(f.read())
    change(data)
    body = bytes(data[:-32])
    data[-32:] = hashlib.sha256(body).digest()
    with open(dst, "wb") as f:
        f.write(data)
    return hashlib.sha256(body).hexdigest()


def _header(data):
    length = struct.unpack("<I", data[12:16])[0]
    return json.loads(bytes(data[16:16 + length])), length


def retimed(src, dst, second):
    """The same model with its creation time's seconds set to `second` (00-59): a new version, same answers."""
    def change(data):
        header, length = _header(data)
        created = header["created"]
        assert created[-1] == "Z" and len(created) == 20, created
        text = bytes(data[16:16 + length]).replace(created.encode(), (created[:17] + f"{second:02d}Z").encode(), 1)
        assert len(text) == length
        data[16:16 + length] = text
    return _rewrite(src, dst, change)


def biased(src, dst, label, delta):
    """The model with `delta` added to one label's output bias: it loads and runs, and answers differently."""
    def change(data):
        header, _ = _header(data)
        head = header["layers"][-1]["fullyConnected"]["_0"]
        index = header["labels"].index(label)
        at = head["bias"]["offset"] + 4 * index
        value = struct.unpack("<f", data[at:at + 4])[0]
        data[at:at + 4] = struct.pack("<f", value + delta)
    return _rewrite(src, dst, change)
