# upip device client: URLs. github:, gitlab: and codeberg: specs mapped to
# https as mip maps them, a relative URL resolved against the document it
# came from, and the name a package.json package gets in the records.
# Hosts are compared as bytes (b"..." is no qstr).
from upip import UpipError


def run(url, ref=None):
    # github:ORG/REPO[/PATH] at ref (HEAD when None) -> its https URL (also
    # gitlab:, codeberg:); any other URL as it is
    i = url.find(":")
    host = url[:i].encode()
    if host not in (b"github", b"gitlab", b"codeberg"):
        return url
    p = url[i + 1:].split("/")
    if len(p) < 2 or not p[0] or not p[1]:
        raise UpipError("{}: no repository (give {}:ORG/REPO[/PATH][@REF])".format(
            url, host.decode()))
    ref = ref or "HEAD"
    path = "/".join(p[2:])
    if host == b"github":
        return "https://raw.githubusercontent.com/{}/{}/{}/{}".format(p[0], p[1], ref, path)
    if host == b"gitlab":
        return "https://gitlab.com/{}/{}/-/raw/{}/{}".format(p[0], p[1], ref, path)
    return "https://codeberg.org/api/v1/repos/{}/{}/raw/{}?ref={}".format(p[0], p[1], path, ref)


def parse(s):
    # a package.json spec (a URL, or github:ORG/REPO[/PATH][@REF] and the
    # like) -> (its package's name, None, None, the source, the spec) as
    # next parses a spec (the source: b"f" for one .py or .mpy file, else
    # b"u"; "/package.json" added when the spec names a folder)
    u, ref = split(s)
    run(u)  # (checks it names a repository)
    v = u.split("?")[0]
    one = v[-3:] == ".py" or v[-4:] == ".mpy"
    if not one and v[-5:] != ".json":
        u = u.rstrip("/") + "/package.json"
    return name(u), None, None, b"f" if one else b"u", u + ("@" + ref if ref else "")


def split(spec):
    # a package.json spec -> (its URL, the ref after "@" or None: github:,
    # gitlab:, codeberg: only)
    i = spec.rfind("@")
    if i > 0 and spec[:4].encode() != b"http":
        return spec[:i], spec[i + 1:]
    return spec, None


def full(url):
    # whether url is absolute: http(s), or github:, gitlab:, codeberg:
    i = url.find(":")
    return i > 0 and url[:i].encode() in (b"http", b"https", b"github", b"gitlab", b"codeberg")


def join(base, url):
    # url (from the document at base) made absolute: "//host/x", "/x", "x",
    # "../x" as a browser reads them (github:ORG/REPO/... bases too)
    if full(url):
        return url
    i = base.find("://")
    if i > 0:
        top = base.find("/", i + 3)
        if top < 0:
            base += "/"
            top = len(base) - 1
        if url[:2] == "//":
            return base[:i + 1] + url
        if url[:1] == "/":
            return base[:top] + url
    else:
        top = base.find(":") + 1
    out = []
    for p in (base[top:base.rfind("/") + 1] + url).split("/"):
        if p == "..":
            if len(out) > 1:
                out.pop()
        elif p != ".":
            out.append(p)
    return base[:top] + "/".join(out)


def name(url):
    # a package.json spec's package name: its folder (github:org/repo ->
    # repo, .../foo/package.json -> foo), or a single file's module name
    # (.../foo.py -> foo)
    u = url.split("?")[0].rstrip("/")
    p = u.split("/")
    if u[-3:] == ".py" or u[-4:] == ".mpy":
        return p[-1][:p[-1].rfind(".")]
    if u[-5:] == ".json":
        p.pop()
    n = p[-1] if p else ""
    return n[n.find(":") + 1:]
