# upip device client: the tar headers unpack meets seldom, GNU long names
# and pax records, read here so that their code is on the heap only when an
# archive has one. One function, its arguments unpacked into locals:
# function and argument names would each be a new qstr.


def run(*args):
    # run(buf, kind, d, size, fill), buf a header of this kind (L, x, or K,
    # g): the name the next member gets (None if none), the header's size
    # bytes read from the tar d with fill(d, buf), the first 8 KB kept
    b, kind, d, size, fill = args
    m = []
    while size > 0:
        fill(d, b)
        if len(m) < 16:
            m.append(bytes(b[:min(512, size)]))
        size -= 512
    m = b"".join(m)
    if kind == 76:
        return m.split(b"\0", 1)[0]
    name = None
    if kind == 120:  # "len path=value\n" records
        for rec in m.split(b"\n"):
            i = rec.find(b" path=")
            if i > 0:
                name = rec[i + 6:]
    return name
