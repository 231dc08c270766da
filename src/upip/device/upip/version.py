# upip device client: versions and ranges, as PEP 440 orders them for
# release segments and pre-, post- and dev-release tags (enough for the
# versions MicroPython packages have); imported by the steps that choose a
# release (json, mip, next) and dropped with them. Parsed as bytes (b"..."
# is no qstr).


def key(value):
    # A version -> a tuple that sorts as PEP 440 says: the release numbers
    # (trailing zeros dropped: 1.0 == 1), then (phase, n, post, dev), phase
    # -1 dev, 0 a, 1 b, 2 rc, 3 final. (Names the firmware has: no qstr.)
    v = value
    if type(v) is str:
        v = v.encode()
    v = v.strip().lower()
    if v[:1] == b"v":
        v = v[1:]
    i = v.find(b"!")  # an epoch: rare, ignored
    if i >= 0:
        v = v[i + 1:]
    rel, i = release(v)
    while rel and not rel[-1]:
        rel.pop()
    phase, n, post, dev = 3, 0, -1, 1 << 30
    rest = v[i:]
    while rest:
        rest = rest.lstrip(b".-_")
        j = 0
        while j < len(rest) and 97 <= rest[j] <= 122:
            j += 1
        tag = rest[:j]
        k = j
        while k < len(rest) and 48 <= rest[k] <= 57:
            k += 1
        num = int(rest[j:k] or b"0")
        if not tag and k:  # 1.0-1: a post-release
            tag = b"post"
        if tag in (b"a", b"alpha"):
            phase, n = 0, num
        elif tag in (b"b", b"beta"):
            phase, n = 1, num
        elif tag in (b"rc", b"c", b"pre", b"preview"):
            phase, n = 2, num
        elif tag in (b"post", b"rev", b"r"):
            post = num
        elif tag == b"dev":
            dev = num
            if phase == 3 and post < 0:
                phase = -1
        elif not k:
            break  # (a local "+..." or anything else: the rest is ignored)
        rest = rest[k:]
    return tuple(rel), (phase, n, post, dev)


def release(value):
    # the leading release numbers of value (bytes) as a list, and where
    # they end
    v = value
    rel = []
    i = 0
    while True:
        j = i
        while j < len(v) and 48 <= v[j] <= 57:
            j += 1
        if j == i:
            break
        rel.append(int(v[i:j]))
        i = j
        if v[i:i + 1] != b"." or i + 1 >= len(v) or not 48 <= v[i + 1] <= 57:
            break
        i += 1
    return rel, i


def phase(key):
    # whether the key (of key()) is a pre-release's (or a dev release's)
    return key[1][0] < 3 or key[1][3] != 1 << 30


def match(value, text):
    # whether the version value (str) is in text, a range: clauses such as
    # ">=1.0", "<2", "!=1.5", "~=1.2", "==1.*", "!=1.*", "===1.0", joined by
    # commas
    v = value
    k = key(v)
    for c in text.encode().split(b","):
        c = c.strip()
        if not c:
            continue
        i = 0
        while i < len(c) and c[i] in b"<>=!~":
            i += 1
        op, w = c[:i], c[i:].strip()
        if op == b"===":
            if v.encode().strip() != w:
                return False
            continue
        if w[-2:] == b".*":  # a prefix of the release
            if op not in (b"==", b"!="):
                return False
            want = release(w[:-2])[0]
            have = list(k[0]) + [0] * len(want)
            if (have[:len(want)] == want) != (op == b"=="):
                return False
            continue
        m = key(w)
        if op == b"~=":  # >= w, and == w's release but its last number
            want = release(w)[0][:-1]
            have = list(k[0]) + [0] * len(want)
            if k < m or have[:len(want)] != want:
                return False
        elif not ((op == b"==" and k == m) or (op == b"!=" and k != m) or
                  (op == b">=" and k >= m) or (op == b"<=" and k <= m) or
                  (op == b">" and k > m) or (op == b"<" and k < m)):
            return False
    return True
