# upip device client: the sha256 of a file in DIR that no installed package
# owns, which check compares with the staged one (loaded only then: most
# commits never need it).


def run(p):
    import binascii
    import hashlib
    buf = memoryview(bytearray(512))
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(buf[:n])
    return binascii.hexlify(h.digest()).decode()
