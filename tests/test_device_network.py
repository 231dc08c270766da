"""The device client on the network: redirects and chunked bodies, failures
that leave the image as it was, TLS, and live PyPI (marked ``network``).

Every test runs the client the way a user does, as a ``micropython`` process
against a real HTTP(S) index on 127.0.0.1, then looks at the image directory and
imports what was installed on the same MicroPython. The client is run from its
sources (``py``) and, where the form matters, as the ``.mpy`` image ``upip
bootstrap`` makes (``mpy``). Helpers: tests/support/device_cases.py.
"""

from __future__ import annotations

import glob
import shutil
import ssl
import subprocess
import warnings
from pathlib import Path

import pytest
import trustme

from tests.conftest import snapshot
from tests.support.catalog import base_module
from tests.support.device import (
    SOURCES,
    Device,
    bootstrap_image,
    error_line,
    lines,
)
from tests.support.device_cases import (
    SHIMS,
    MakeIndex,
    done,
    install,
    populated,
    untouched,
)
from tests.support.server import IndexServer


def der(ca: trustme.CA) -> bytes:
    return ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())


# -- transport: redirects, chunked bodies ------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 307, 308])
@pytest.mark.parametrize("form", ["relative", "absolute-path", "absolute-url"])
def test_redirects_on_the_json_and_the_archive(device: Device, make_index: MakeIndex,
                                               tmp_path: Path, code: int, form: str) -> None:
    server = make_index()
    other = make_index()  # another host:port for absolute URLs
    name = "micropython-fx-base-2.0.tar.gz"
    mirror = server.root / "files" / "mirror"
    mirror.mkdir()
    shutil.copy(server.root / "files" / name, mirror / name)
    lib = tmp_path / "lib"
    if form == "absolute-url":
        # JSON: to the other server, whose JSON lists its own archive; that archive:
        # back to this server's mirror
        server.fault("/pypi/micropython-fx-base/json", "redirect",
                     (code, f"{other.json_url}/micropython-fx-base/json"), times=1)
        other.fault(f"/files/{name}", "redirect", (code, f"{server.url}/files/mirror/{name}"),
                    times=1)
        done(install(device, lib, server, "micropython-fx-base"))
        assert server.requests() == ["/pypi/micropython-fx-base/json", f"/files/mirror/{name}"]
        assert other.requests() == ["/pypi/micropython-fx-base/json", f"/files/{name}"]
    else:
        json_to, archive_to = {
            "relative": ("json/", f"mirror/{name}"),
            "absolute-path": ("/pypi/micropython-fx-base/json/", f"/files/mirror/{name}"),
        }[form]
        server.fault("/pypi/micropython-fx-base/json", "redirect", (code, json_to), times=1)
        server.fault(f"/files/{name}", "redirect", (code, archive_to), times=1)
        done(install(device, lib, server, "micropython-fx-base"))
        assert server.requests() == [
            "/pypi/micropython-fx-base/json", "/pypi/micropython-fx-base/json/",
            f"/files/{name}", f"/files/mirror/{name}"]
    assert (lib / "fxbase.py").read_text() == base_module("2.0")


def test_redirect_loop_is_an_error(device: Device, index: IndexServer, tmp_path: Path) -> None:
    index.fault("/pypi/micropython-fx-base/json", "redirect",
                (302, "/pypi/micropython-fx-base/json"))
    result = install(device, tmp_path / "lib", index, "micropython-fx-base")
    assert result.returncode == 1
    assert "too many redirects" in error_line(result)
    assert not (tmp_path / "lib").exists()


def test_url_that_is_not_http_is_an_error(device: Device, index: IndexServer,
                                          tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    result = device.upip("install", "-p", str(lib), "-i", "ftp://127.0.0.1/pypi",
                         "micropython-fx-base")
    assert result.returncode == 1
    assert error_line(result) == ("error: micropython-fx-base: unsupported URL "
                                  "ftp://127.0.0.1/pypi/micropython-fx-base/json")
    name = "micropython-fx-base-2.0.tar.gz"
    index.fault(f"/files/{name}", "redirect", (302, f"ftp://127.0.0.1/{name}"))
    result = install(device, lib, index, "micropython-fx-base")
    assert error_line(result) == (f"error: micropython-fx-base: unsupported URL "
                                  f"ftp://127.0.0.1/{name}")
    assert not lib.exists()


@pytest.mark.parametrize("size", [7, 512])
def test_chunked_json_and_archive(device: Device, index: IndexServer, tmp_path: Path,
                                  size: int) -> None:
    index.fault("/pypi/micropython-fx-app/json", "chunked", size, times=1)
    index.fault("/files/micropython-fx-app-1.0.tar.gz", "chunked", size, times=1)
    index.fault("/files/micropython-fx-base-1.1.tar.gz", "chunked", size, times=1)
    lib = tmp_path / "lib"
    done(install(device, lib, index, "micropython-fx-app"))
    assert all(f.times == 0 for f in index.faults.values())
    run = device.run("import fxapp; print(fxapp.run())", path=[lib])
    assert run.stdout == "app 1.0 on base 1.1: 42\n"


# -- failures leave the target as it was ------------------------------------------------


def test_hash_mismatch_leaves_the_target_untouched(any_device: Device, index: IndexServer,
                                                   tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    before = populated(any_device, lib, index)
    # a valid archive, just not the one the index lists
    other = (index.root / "files" / "micropython-fx-base-1.0.tar.gz").read_bytes()
    index.fault("/files/micropython-fx-base-2.0.tar.gz", "body", other)
    result = install(any_device, lib, index, "micropython-fx-app", "micropython-fx-base==2.0")
    assert result.returncode == 1
    message = error_line(result)
    assert message.startswith("error: micropython-fx-base: sha256 of ")
    assert "micropython-fx-base-2.0.tar.gz" in message and "corrupt or tampered" in message
    untouched(lib, before)


@pytest.mark.parametrize(("fault", "arg", "expect"), [
    ("drop", 100, "connection closed mid-body"),
    ("drop", 0, "connection closed mid-body"),
    ("status", 404, "answered HTTP 404"),
    ("status", 500, "answered HTTP 500"),
])
def test_failed_archive_download_leaves_the_target_untouched(
        device: Device, index: IndexServer, tmp_path: Path, fault: str, arg: int,
        expect: str) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    index.fault("/files/micropython-fx-app-1.0.tar.gz", fault, arg)
    result = install(device, lib, index, "micropython-fx-app")
    assert result.returncode == 1
    message = error_line(result)
    assert message.startswith("error: micropython-fx-app: ") and expect in message
    untouched(lib, before)


@pytest.mark.parametrize("path", ["/pypi/micropython-fx-app/json",
                                  "/files/micropython-fx-app-1.0.tar.gz"])
def test_stalled_server_times_out(device: Device, index: IndexServer, tmp_path: Path,
                                  path: str) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    index.fault(path, "stall", 3)
    result = install(device, lib, index, "--timeout", "1", "micropython-fx-app", timeout=20)
    assert result.returncode == 1
    assert error_line(result) == f"error: micropython-fx-app: {index.url}{path}: timed out"
    untouched(lib, before)


def test_dns_failure_names_the_host(device: Device, tmp_path: Path) -> None:
    result = device.upip("install", "-p", str(tmp_path / "lib"), "-i",
                         "http://nonexistent.invalid/pypi", "micropython-fx-base")
    assert result.returncode == 1
    assert error_line(result) == ("error: micropython-fx-base: cannot resolve host "
                                  "nonexistent.invalid")
    assert not (tmp_path / "lib").exists()


def test_connection_refused(device: Device, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = device.upip("install", "-p", str(tmp_path / "lib"), "-i",
                         f"http://127.0.0.1:{port}/pypi", "micropython-fx-base")
    assert result.returncode == 1
    assert "connection refused" in error_line(result)


def test_unknown_project_is_an_error(device: Device, index: IndexServer,
                                     tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    result = install(device, lib, index, "micropython-fxalias", "no-such-thing")
    assert result.returncode == 1
    assert error_line(result) == ("error: no-such-thing: no such package: tried "
                                  f"{index.json_url}/micropython-no-such-thing, "
                                  f"{index.json_url}/no-such-thing")
    untouched(lib, before)


CORRUPT_JSON = [b"{not json", b"", b'{"info": {"version": "2.0"}, "urls": [{"url": "http:',
                b"<html>Service Unavailable</html>"]


@pytest.mark.parametrize("body", CORRUPT_JSON)
def test_corrupt_json_is_one_error_line(device: Device, index: IndexServer, tmp_path: Path,
                                        body: bytes) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    index.fault("/pypi/micropython-fx-app/json", "body", body)
    result = install(device, lib, index, "micropython-fx-app")
    assert result.returncode == 1
    assert error_line(result).startswith("error: micropython-fx-app: ")
    untouched(lib, before)


@pytest.mark.parametrize("body", CORRUPT_JSON)
def test_corrupt_json_error_says_what_is_wrong(device: Device, index: IndexServer,
                                               tmp_path: Path, body: bytes) -> None:
    index.fault("/pypi/micropython-fx-app/json", "body", body)
    message = error_line(install(device, tmp_path / "lib", index, "micropython-fx-app"))
    assert "release None" not in message
    assert "no .tar.gz sdist" not in message
    assert "json" in message.lower()


# -- TLS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def https_index(make_index: MakeIndex, ca: trustme.CA, host: str = "127.0.0.1") -> IndexServer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(host).configure_cert(context)
    return make_index(ssl_context=context)


def test_https_with_the_right_ca_verifies_without_warning(
        any_device: Device, make_index: MakeIndex, ca: trustme.CA, tmp_path: Path) -> None:
    server = https_index(make_index, ca)
    assert server.json_url.startswith("https://")
    cert = tmp_path / "ca.der"
    cert.write_bytes(der(ca))
    lib = tmp_path / "lib"
    out = done(install(any_device, lib, server, "--ca", str(cert), "micropython-fx-app"))
    assert not any("warning: TLS" in line for line in out)
    run = any_device.run("import fxapp; print(fxapp.run())", path=[lib])
    assert run.stdout == "app 1.0 on base 1.1: 42\n"


@pytest.mark.parametrize("what", ["json", "archive"])
def test_http_redirected_to_https_is_verified_too(
        any_device: Device, make_index: MakeIndex, ca: trustme.CA, tmp_path: Path,
        what: str) -> None:
    # an http index's answer redirected to https: the context is made mid-request
    secure = https_index(make_index, ca)
    plain = make_index()
    name = "micropython-fx-base-2.0.tar.gz"
    if what == "json":
        plain.fault("/pypi/micropython-fx-base/json", "redirect",
                    (302, f"{secure.json_url}/micropython-fx-base/json"))
    else:
        plain.fault(f"/files/{name}", "redirect", (302, f"{secure.url}/files/{name}"))
    cert = tmp_path / "ca.der"
    cert.write_bytes(der(ca))
    lib = tmp_path / "lib"
    out = done(install(any_device, lib, plain, "--ca", str(cert), "micropython-fx-base"))
    assert not any("warning: TLS" in line for line in out)
    assert secure.requests() == (["/pypi/micropython-fx-base/json"] if what == "json" else
                                 []) + [f"/files/{name}"]
    assert (lib / "fxbase.py").read_text() == base_module("2.0")
    # and the check is real: another CA refuses the redirected request
    cert.write_bytes(der(trustme.CA()))
    result = install(any_device, tmp_path / "lib2", plain, "--ca", str(cert),
                     "micropython-fx-base")
    assert "127.0.0.1" in error_line(result)
    assert not (tmp_path / "lib2").exists()


@pytest.mark.parametrize("verified", [True, False])
@pytest.mark.parametrize("firmware", ["oldfw", "oldfw119"])
def test_older_firmware_uses_its_older_modules(
        any_device: Device, make_index: MakeIndex, ca: trustme.CA, tmp_path: Path,
        verified: bool, firmware: str) -> None:
    # MicroPython 1.20 has neither the tls nor the deflate module: the client
    # falls back to ssl.wrap_socket and uzlib.DecompIO (see oldfw.py); 1.19
    # names its socket and ssl modules usocket and ussl (oldfw119.py)
    server = https_index(make_index, ca)
    cert = tmp_path / "ca.der"
    cert.write_bytes(der(ca))
    lib = tmp_path / "lib"
    option = f"ca={str(cert)!r}" if verified else "insecure=True"

    def install_on_old_firmware(target: Path) -> subprocess.CompletedProcess[str]:
        code = (f"import {firmware}, upip\n"
                f"upip.install('micropython-fx-app', path={str(target)!r}, "
                f"index={server.json_url!r}, {option})\n"
                f"print(sorted(set({firmware}.USED)))")
        return any_device.run(code, path=[SHIMS])

    result = install_on_old_firmware(lib)
    assert result.returncode == 0, result.stdout + result.stderr
    used = ["ssl+ca" if verified else "ssl", "uzlib"]
    if firmware == "oldfw119":
        used = sorted([*used, "usocket", "ussl"])
    assert lines(result)[-1] == str(used)
    run = any_device.run("import fxapp; print(fxapp.run())", path=[lib])
    assert run.stdout == "app 1.0 on base 1.1: 42\n"
    if verified:  # and the older ssl checks the certificate too
        cert.write_bytes(der(trustme.CA()))
        result = install_on_old_firmware(tmp_path / "lib2")
        assert result.returncode == 1
        assert "UpipError: micropython-fx-app: TLS with 127.0.0.1 failed" in result.stdout
        assert not (tmp_path / "lib2").exists()


def test_https_with_another_ca_fails_and_changes_nothing(
        device: Device, make_index: MakeIndex, ca: trustme.CA, tmp_path: Path) -> None:
    server = https_index(make_index, ca)
    cert = tmp_path / "other.der"
    cert.write_bytes(der(trustme.CA()))
    lib = tmp_path / "lib"
    before = populated(Device("py", SOURCES), lib, make_index())  # over plain HTTP
    result = install(device, lib, server, "--ca", str(cert), "micropython-fx-app")
    assert result.returncode == 1
    assert "Done" not in result.stdout
    untouched(lib, before)
    assert server.requests() == []  # the handshake failed: no request was sent


@pytest.mark.parametrize("heapsize", [None, "40k"])
def test_https_with_another_ca_is_one_error_line(device: Device, make_index: MakeIndex,
                                                 ca: trustme.CA, tmp_path: Path,
                                                 heapsize: str | None) -> None:
    server = https_index(make_index, ca)
    cert = tmp_path / "other.der"
    cert.write_bytes(der(trustme.CA()))
    result = install(device, tmp_path / "lib", server, "--ca", str(cert), "micropython-fx-app",
                     heapsize=heapsize)
    message = error_line(result)
    assert message.startswith("error: micropython-fx-app: TLS with 127.0.0.1 failed: "
                              "The certificate is not correctly signed"), message
    # Where mbedtls allocates from MicroPython's heap (rp2, stm32), running out
    # of it in the signature check reads the same: with little heap free,
    # the line says so (this port's mbedtls uses the C heap: no hint needed).
    hint = " (or too little memory for TLS: "
    assert (hint in message) == (heapsize is not None)


def test_out_of_memory_in_the_network_stack_is_said_so(device: Device, index: IndexServer,
                                                       tmp_path: Path) -> None:
    # ENOMEM from a socket (lwIP, or mbedtls's own allocation failure): see nomem.py
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    result = device.run(f"import nomem\nimport upip\nupip.install('micropython-fx-app', "
                        f"path={str(lib)!r}, index={index.json_url!r})", path=[SHIMS])
    assert result.returncode == 1
    assert result.stdout.rstrip().endswith(
        f"UpipError: micropython-fx-app: {index.json_url}/micropython-fx-app/json: "
        "out of memory"), result.stdout
    untouched(lib, before)


def test_https_certificate_for_another_host_is_refused(
        device: Device, make_index: MakeIndex, ca: trustme.CA, tmp_path: Path) -> None:
    server = https_index(make_index, ca, host="example.org")
    cert = tmp_path / "ca.der"
    cert.write_bytes(der(ca))
    result = install(device, tmp_path / "lib", server, "--ca", str(cert), "micropython-fx-base")
    assert result.returncode == 1
    assert not (tmp_path / "lib").exists()


def test_https_without_a_ca_warns_once(device: Device, make_index: MakeIndex, ca: trustme.CA,
                                       tmp_path: Path) -> None:
    server = https_index(make_index, ca)
    out = done(install(device, tmp_path / "lib", server, "micropython-fx-app"))
    warnings_ = [line for line in out if "NOT verified" in line]
    assert warnings_ == [
        f"warning: TLS certificates are NOT verified: no CA file (put a DER certificate at "
        f"{SOURCES}/upip/ca.der, or pass --ca)"]
    assert (tmp_path / "lib" / "fxapp" / "__init__.py").is_file()


def test_https_insecure_does_not_warn(device: Device, make_index: MakeIndex, ca: trustme.CA,
                                      tmp_path: Path) -> None:
    server = https_index(make_index, ca)
    out = done(install(device, tmp_path / "lib", server, "--insecure", "micropython-fx-app"))
    assert out == ["Installing micropython-fx-app 1.0", "Installing micropython-fx-base 1.1",
                   "Done"]


def test_https_missing_ca_file_is_an_error(device: Device, make_index: MakeIndex,
                                           ca: trustme.CA, tmp_path: Path) -> None:
    server = https_index(make_index, ca)
    result = install(device, tmp_path / "lib", server, "--ca", str(tmp_path / "no.der"),
                     "micropython-fx-base")
    assert result.returncode == 1
    assert error_line(result) == ("error: micropython-fx-base: cannot read the CA file "
                                  f"{tmp_path / 'no.der'}")


def test_https_ca_file_that_is_no_certificate_is_an_error(
        device: Device, make_index: MakeIndex, ca: trustme.CA, tmp_path: Path) -> None:
    server = https_index(make_index, ca)
    bad = tmp_path / "bad.der"
    bad.write_bytes(b"not a certificate\n" * 40)
    lib = tmp_path / "lib"
    result = install(device, lib, server, "--ca", str(bad), "micropython-fx-base")
    assert result.returncode == 1
    assert error_line(result) == (f"error: micropython-fx-base: the CA file {bad} is not a "
                                  "DER certificate")
    assert not lib.exists()
    assert server.requests() == []


def test_bootstrap_ca_is_used_by_the_device(micropython: object, make_index: MakeIndex,
                                            ca: trustme.CA, tmp_path: Path) -> None:
    server = https_index(make_index, ca)
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    client = bootstrap_image(tmp_path / "client" / "lib", "--ca", str(pem))
    assert (client / "upip" / "ca.der").read_bytes() == der(ca)
    dev = Device("mpy", client)
    lib = tmp_path / "lib"
    out = done(install(dev, lib, server, "micropython-fx-app"))
    assert not any("warning: TLS" in line for line in out)
    # and it is really checked: the image's CA, swapped for another, fails
    (client / "upip" / "ca.der").write_bytes(der(trustme.CA()))
    result = install(dev, tmp_path / "lib2", server, "micropython-fx-app")
    assert result.returncode == 1
    assert not (tmp_path / "lib2").exists()


# -- live PyPI --------------------------------------------------------------------------


def pypi_root_ca(host: str = "pypi.org") -> bytes | None:
    """The DER of the local trust store's root for HOST's chain, as seen from here
    (a TLS-intercepting proxy's root included), or None."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    if shutil.which("openssl") is None:
        return None
    try:
        shown = subprocess.run(["openssl", "s_client", "-showcerts", "-connect", f"{host}:443",
                                "-servername", host], input="", capture_output=True, text=True,
                               timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    blocks = [begin + part.split(end)[0] + end for part in shown.split(begin)[1:]]
    if not blocks:
        return None
    top = x509.load_pem_x509_certificate(blocks[-1].encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted(glob.glob("/etc/ssl/certs/*.pem")):
            try:
                certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
            except (OSError, ValueError):
                continue
            for cert in certs:
                if cert.subject == top.issuer:
                    return cert.public_bytes(Encoding.DER)
    return None


@pytest.mark.network
def test_install_from_live_pypi_and_run(mpy_device: Device, tmp_path: Path) -> None:
    root = pypi_root_ca()
    lib = tmp_path / "lib"
    if root is not None:
        cert = tmp_path / "root.der"
        cert.write_bytes(root)
        tls = ["--ca", str(cert)]
    else:
        tls = ["--insecure"]
    result = mpy_device.upip("install", "-p", str(lib), *tls, "micropython-pystone_lowmem",
                             "micropython-umqtt.simple", timeout=120)
    out = done(result)
    assert not any("NOT verified" in line for line in out)
    assert out[0].startswith("Installing micropython-pystone_lowmem ")
    assert any(line.startswith("Installing micropython-umqtt.simple ") for line in out)
    assert {"pystone_lowmem.py", "umqtt/simple.py"} <= set(snapshot(lib))
    run = mpy_device.run("import pystone_lowmem; pystone_lowmem.main(100)\n"
                         "from umqtt.simple import MQTTClient\n"
                         "c = MQTTClient('upip-test', '127.0.0.1')\n"
                         "print('client', c.client_id, c.port)", path=[lib])
    assert "Pystone(1.2) time for 100 passes" in run.stdout, run.stderr
    assert "client b'upip-test' 1883" in run.stdout or "client upip-test 1883" in run.stdout
    if root is None:  # no CA found: the insecure fallback, without any warning
        pytest.skip("no local root CA verifies pypi.org; installed with --insecure")


@pytest.mark.network
def test_install_from_live_pypi_without_ca_warns(mpy_device: Device, tmp_path: Path) -> None:
    result = mpy_device.upip("install", "-p", str(tmp_path / "lib"),
                             "micropython-pystone_lowmem", timeout=120)
    out = done(result)
    assert out[0].startswith("warning: TLS certificates are NOT verified")
    assert sum("NOT verified" in line for line in out) == 1
