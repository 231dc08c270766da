# upip device client: the network steps. HTTP/1.1 GET over a socket or TLS,
# with redirects and chunked or sized bodies; meta() finds the release in
# PyPI's JSON API, run() downloads it. fetch() with a file name saves the
# body there and returns its sha256, computed on the way.
import socket

from upip import UpipError, norm


def run(o):
    # The archive, into the stage, its sha256 checked before anything reads it.
    got = fetch(o.url, o, o.path + "/.upip-tx/a")
    if got != o.sha256:
        raise UpipError("sha256 of {} is {}, the index says {}: corrupt or tampered "
                        "with".format(o.url, got, o.sha256))


class Body:
    # A response body: readinto() hides Content-Length, chunked and close.
    def __init__(self, s, left, chunked):
        self.s = s
        self.left = left  # bytes left in the body or chunk; -1: until close
        self.chunked = chunked  # 1: before the first chunk, 2: after one, 0: no

    def readinto(self, buf):
        s = self.s
        if self.chunked and not self.left:
            if self.chunked == 2:
                s.readline()  # the CRLF after a chunk
            self.chunked = 2
            line = s.readline()
            if not line:
                raise UpipError("connection closed mid-body")
            self.left = int(line.split(b";")[0], 16)
            if not self.left:
                while s.readline() not in (b"\r\n", b""):
                    pass
                self.chunked = 0
        if not self.left:
            return 0
        n = s.readinto(buf if self.left < 0 or self.left >= len(buf) else buf[:self.left])
        if not n:
            if self.left > 0:
                raise UpipError("connection closed mid-body")
            return 0
        if self.left > 0:
            self.left -= n
        return n


def oserror(e):
    n = e.args[0] if e.args else 0
    return {28: "no space left on device", 27: "file too large (disk full?)", 110: "timed out",
            116: "timed out",
            104: "connection reset", 111: "connection refused", 113: "no route to host",
            5: "I/O error"}.get(n, "error " + str(e))


def fetch(url, o, fname=None):
    # -> (status, Body); with fname: the body saved there -> its sha256
    for _ in range(6):
        proto, _, host, path = (url + ("/" if url.count("/") < 3 else "")).split("/", 3)
        port = 443 if proto == "https:" else 80
        if proto not in ("http:", "https:"):
            raise UpipError("unsupported URL " + url)
        i = host.rfind(":")
        if i > 0 and host[-1:] != "]":
            host, port = host[:i], int(host[i + 1:])
        try:
            ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        except OSError:
            raise UpipError("cannot resolve host " + host)
        s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
        try:
            s.settimeout(o.timeout)
            s.connect(ai[-1])
            if proto == "https:":
                try:
                    s = _tls(s, host, o)
                except ValueError as e:
                    raise UpipError("TLS with {} failed: {}".format(host, " ".join(
                        str(e).split())))
            s.write("GET /{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n"
                    "User-Agent: upip-device\r\n\r\n".format(path, host).encode())
            line = s.readline()
            if not line:
                raise UpipError(url + " closed the connection")
            status = int(line.split(None, 2)[1])
            length, chunked, loc = -1, 0, None
            while True:
                h = s.readline()
                if not h or h == b"\r\n":
                    break
                h = h.decode()
                i = h.find(":")
                k, v = h[:i].lower(), h[i + 1:].strip()
                if k == "content-length":
                    length = int(v)
                elif k == "transfer-encoding" and "chunked" in v.lower():
                    chunked = 1
                elif k == "location":
                    loc = v
            if status in (301, 302, 303, 307, 308) and loc:
                s.close()
                if "://" not in loc:  # relative: to the host, or to the folder
                    i = url.find("/", url.find("//") + 2)
                    loc = (url[:i] if loc[:1] == "/" else url[:url.rfind("/") + 1]) + loc
                url = loc
                continue
            body = Body(s, 0 if chunked else length, chunked)
            if fname is None:
                return status, body
            if status != 200:
                raise UpipError("{} answered HTTP {}".format(url, status))
            import binascii
            import hashlib
            sha = hashlib.sha256()
            buf = o.buf
            with open(fname, "wb") as f:
                while True:
                    n = body.readinto(buf)
                    if not n:
                        break
                    sha.update(buf[:n])
                    f.write(buf[:n])
            s.close()
            return binascii.hexlify(sha.digest()).decode()
        except OSError as e:
            s.close()
            raise UpipError("{}: {}".format(url, oserror(e)))
        except BaseException:
            s.close()
            raise
    raise UpipError("too many redirects at " + url)


def _tls(s, host, o):
    ca = None
    if not o.insecure:
        path = o.ca
        if path is None:
            import upip
            path = upip.__file__[:upip.__file__.rfind("/")] + "/ca.der"
        try:
            with open(path, "rb") as f:
                ca = f.read()
        except OSError:
            if o.ca:
                raise UpipError("cannot read the CA file " + o.ca)
            if not o.warned:
                o.warned = True
                print("warning: TLS certificates are NOT verified: no CA file (put a DER "
                      "certificate at {}, or pass --ca)".format(path))
    try:
        import tls
    except ImportError:
        tls = None
    if tls:
        c = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        c.verify_mode = tls.CERT_NONE
        if ca:
            c.load_verify_locations(ca)
            c.verify_mode = tls.CERT_REQUIRED
        return c.wrap_socket(s, server_hostname=host)
    import ssl
    if ca:
        return ssl.wrap_socket(s, server_hostname=host, cert_reqs=ssl.CERT_REQUIRED, cadata=ca)
    return ssl.wrap_socket(s, server_hostname=host)


def meta(o):
    # The sdist to install for o.name (o.pin) -> o.dname, o.version, o.url,
    # o.sha256, found in PyPI's JSON API while it streams in: the state is a
    # few short strings whatever the number of releases or the length of the
    # description (strings nobody asked for are skipped, not kept). Unknown
    # names are tried with micropython- in front; a pin tries /NAME/VER/json
    # first and falls back to the project's JSON (mirrors may not serve the
    # former).
    name, pin = o.name, o.pin
    names = [name]
    if norm(name)[:12] != "micropython-":
        names.append("micropython-" + name)
    for n in names:
        urls = [o.index + "/" + n + "/json"]
        if pin:
            urls.insert(0, o.index + "/" + n + "/" + pin + "/json")
        for u in urls:
            st, body = fetch(u, o)
            try:
                if st == 404:
                    continue
                if st != 200:
                    raise UpipError("{} answered HTTP {}".format(u, st))
                r = pick(body, o.buf, pin if u == urls[-1] else None, pin is not None)
            except ValueError:
                raise UpipError(u + " is not a PyPI JSON document")
            finally:
                body.s.close()
            if r[1] is None:
                raise UpipError("{} has no release {}".format(n, pin))
            if r[2] is None:
                raise UpipError("{} {} has no .tar.gz sdist (the device installs sdists; use "
                                "upip on a PC)".format(n, r[1]))
            if n != name:
                print("note: no project {}; using {}".format(name, n))
            o.dname, o.version, o.url, o.sha256 = r
            print("Installing {} {}".format(r[0], r[1]))
            return
    raise UpipError("no such project (nor micropython-{}) on {}".format(name, o.index))


def pick(body, buf, pin, yanked_ok):
    # Without pin: the sdist in "urls" (the latest release); with pin: the
    # one in "releases"[pin]. -> (name, version, url, sha256); url is None
    # when the release has no sdist, version None when the pin is missing.
    # A yanked file is taken only when yanked_ok (the user pinned it).
    # Raises ValueError for what is not JSON.
    st = []  # open containers: 123 "{" or 91 "["
    keys = []  # the key at each level (None in arrays)
    name = version = best = f = None  # f: the file object being read
    fdepth = -1
    s = None  # the string being read: bytearray, or False when skipped
    esc = key_next = False
    lit = None  # first byte of a literal (number, true, false, null)
    found = pin is None
    seen = False  # the document's "{"
    n = i = 0
    while True:
        if i >= n:
            n = body.readinto(buf)
            i = 0
            if not n:
                break
        c = buf[i]
        i += 1
        if s is not None:
            if esc:
                esc = False
                if s is not False and len(s) < 400:
                    s.append({110: 10, 116: 9, 114: 13}.get(c, c))
            elif c == 92:  # backslash
                esc = True
            elif c == 34:  # end of the string
                v = None if s is False else s.decode()
                s = None
                d = len(keys)
                if key_next:
                    keys[-1] = v
                    key_next = False
                elif d == 2 and keys[0] == "info":
                    if keys[1] == "name":
                        name = v
                    elif keys[1] == "version" and pin is None:
                        version = v
                elif f is not None and v is not None:
                    f[keys[-1]] = v
                    if pin is not None:
                        found, version = True, pin
            elif s is not False and len(s) < 400:
                s.append(c)
            continue
        if lit is not None:
            if c not in b" \t\r\n,}]":
                continue
            if f is not None and keys[-1] == "yanked":
                f["yanked"] = lit == 116  # t(rue)
            lit = None
        if c == 34:  # a string starts: keep it only if it is a key or a wanted field
            d = len(keys)
            k = keys[-1] if keys else None
            want = key_next or (d == 2 and keys[0] == "info" and k in ("name", "version"))
            if not want and k in ("filename", "url", "packagetype", "sha256"):
                if pin is None:
                    want = keys[0] == "urls" and (d == 3 or (d == 4 and keys[2] == "digests"))
                else:
                    want = keys[0] == "releases" and keys[1] == pin and (
                        d == 4 or (d == 5 and keys[3] == "digests"))
            s = bytearray() if want else False
        elif c == 123 or c == 91:  # { [
            if not st and (seen or c != 123):
                raise ValueError
            seen = True
            st.append(c)
            keys.append(None)
            key_next = c == 123
            d = len(keys)
            if c == 123 and ((pin is None and d == 3 and keys[0] == "urls") or (
                    d == 4 and keys[0] == "releases" and keys[1] == pin)):
                f, fdepth = {}, len(st)
        elif c == 125 or c == 93:  # } ]
            if not st or st[-1] != c - 2:
                raise ValueError
            if c == 125 and len(st) == fdepth:
                fn = f.get("filename", "")
                if best is None and (fn[-7:] == ".tar.gz" or fn[-4:] == ".tgz") and f.get(
                        "url") and f.get("sha256") and (yanked_ok or not f.get("yanked")):
                    best = f
                f, fdepth = None, -1
            st.pop()
            keys.pop()
        elif c == 44:  # ,
            key_next = st[-1] == 123
        elif c in b"-0123456789tfn":
            lit = c
        elif c not in b" \t\r\n:" or not st:
            raise ValueError
    if st or not seen:
        raise ValueError
    if pin is not None and not found:
        version = None
    if best is None:
        return name, version, None, None
    return name, version, best.get("url"), best.get("sha256")
