# upip device client: a JSON document in a file, read in 256-byte pieces
# and told to a callback value by value, so that the heap holds the path
# to the value and the value, never the document (a mip index.json is
# ~60 KB). Bytes throughout (b"..." is no qstr).


def run(path, callback):
    # callback(keys, value) for each string (bytes, its first 1 KB) and each other
    # literal (its first byte, an int), and callback(keys, None) at the end of
    # each object or array; keys: the path to it, a key (bytes) in an
    # object, an index (int) in an array. ValueError if it is no JSON.
    st = []  # the open containers: 123 "{" or 91 "["
    keys = []
    s = None  # the string being read
    esc = lit = knext = seen = False
    buf = memoryview(bytearray(256))  # (256: the largest free block may be no more)
    with open(path, "rb") as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            for i in range(k):
                c = buf[i]
                if s is not None:
                    if esc:
                        esc = False
                        if len(s) < 1024:
                            s.append({110: 10, 116: 9, 114: 13}.get(c, c))
                    elif c == 92:  # backslash
                        esc = True
                    elif c == 34:  # the string's end
                        v, s = bytes(s), None
                        if knext:
                            keys[-1], knext = v, False
                        else:
                            callback(keys, v)
                    elif len(s) < 1024:
                        s.append(c)
                    continue
                if lit:
                    if c not in b" \t\r\n,}]":
                        continue
                    lit = False
                if c == 34:
                    if not st:
                        raise ValueError
                    s = bytearray()
                elif c == 123 or c == 91:  # { [
                    if not st and seen:
                        raise ValueError
                    seen = True
                    st.append(c)
                    keys.append(0)
                    knext = c == 123
                elif c == 125 or c == 93:  # } ]
                    if not st or st[-1] != c - 2:
                        raise ValueError
                    st.pop()
                    keys.pop()
                    callback(keys, None)
                elif c == 44:  # ,
                    if not st:
                        raise ValueError
                    if st[-1] == 123:
                        knext = True
                    else:
                        keys[-1] += 1
                elif c in b"-0123456789tfn":
                    if not st:
                        raise ValueError
                    lit = True
                    callback(keys, c)
                elif c not in b" \t\r\n:":
                    raise ValueError
    if st or not seen:
        raise ValueError
