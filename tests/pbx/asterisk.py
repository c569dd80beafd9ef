"""A real Asterisk for the tests: found through HOTLINE_TEST_ASTERISK, unpacked into a temporary
folder, configured from the project's own `config/asterisk/` samples with loopback ports chosen
here, started and stopped.

HOTLINE_TEST_ASTERISK names one of:
- a `.tar.zst` / `.tar.gz` / `.tar` of a relocatable build (the layout of
  `../shared/tools/asterisk-22/`: `asterisk/sbin/asterisk`, `asterisk/lib/asterisk/modules`,
  `asterisk/var/lib/asterisk/documentation`), or a folder holding such a tarball;
- an unpacked tree (a folder with `sbin/asterisk`), or the `asterisk` binary itself.

The generated configuration is the sample with only what a deployer must change replaced
(addresses, ports, placeholder secrets, the FastAGI address, TLS off on loopback) plus what the
tests add: SIP phones for lawyers (`PJSIP/2001`…) that SIPp answers, and the carrier pointed at
SIPp. `generate_config` says exactly what changed.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "config" / "asterisk"
ENV = "HOTLINE_TEST_ASTERISK"
#: Set (CI does) to make a missing Asterisk or SIPp a failure instead of a skip.
REQUIRE_ENV = "HOTLINE_TEST_REQUIRE_PBX"
TARBALL_SUFFIXES = (".tar.zst", ".tar.gz", ".tgz", ".tar")
#: How long the queue rings a lawyer (queues.conf `timeout`; the sample says 20 s).
RING_TIMEOUT_S = 15
#: Modules the tests never use: they listen on 0.0.0.0 or need services absent on loopback.
NOLOAD = """
chan_iax2 chan_skinny chan_mgcp chan_unistim pbx_dundi res_hep res_hep_pjsip res_hep_rtcp res_phoneprov
res_pjsip_phoneprov_provider res_stun_monitor res_statsd cdr_radius cel_radius res_config_pgsql cdr_pgsql
cel_pgsql res_config_ldap cdr_tds cel_tds res_snmp res_xmpp chan_motif res_calendar res_calendar_caldav
res_calendar_ews res_calendar_exchange res_calendar_icalendar cdr_odbc cel_odbc res_odbc res_config_odbc
func_odbc res_odbc_transaction
"""


class AsteriskUnavailable(RuntimeError):
    """No usable Asterisk: why, in words a developer can act on."""


def _ephemeral_low(default: int = 32768) -> int:
    """The first port of the kernel's ephemeral range: ports from there up are handed to any socket
    bound to port 0 (DNS queries, Chromium's WebRTC, Redis clients), so a port checked free there can
    be taken before SIPp or Asterisk binds it."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


class PortPool:
    """Loopback ports for Asterisk and SIPp, below the ephemeral range and handed out in order, so
    two SIPp runs alive at once never get overlapping ranges. Each block is checked free for UDP (SIP,
    RTP) and TCP (AMI, HTTP, FastAGI) when it is handed out. The cursor starts at a random point, so
    two test processes on one machine start far apart."""

    def __init__(self, low: int = 10000, high: int | None = None) -> None:
        self.low = low
        self.high = min(high or _ephemeral_low(), 65536)
        self._next = low + secrets.randbelow(self.high - low) // 2 * 2

    def take(self, width: int = 1) -> int:
        """The first of `width` consecutive free ports (the first even, as RTP wants)."""
        for _ in range((self.high - self.low) // max(width, 2) + 1):
            start = self._next
            if start + width > self.high:
                start = self.low
            self._next = start + width + (start + width) % 2
            if all(_free(port) for port in range(start, start + width)):
                return start
        raise RuntimeError(f"no {width} consecutive free ports in {self.low}-{self.high}")


def _free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


#: The one pool every real-PBX test takes its ports from.
PORTS = PortPool()


def free_ports(count: int) -> list[int]:
    """`count` single ports, each free on 127.0.0.1 for both TCP and UDP."""
    return [PORTS.take() for _ in range(count)]


def free_port_range(width: int) -> int:
    """The first of `width` consecutive ports free on 127.0.0.1, even."""
    return PORTS.take(width)


@dataclass(frozen=True)
class Build:
    """Where an Asterisk's binary, modules and XML documentation are."""

    binary: Path
    modules: Path
    documentation: Path
    keys: Path | None


def locate(setting: str | None, unpack_into: Path) -> Build:
    """The Asterisk named by HOTLINE_TEST_ASTERISK, unpacked into `unpack_into` when a tarball."""
    if not setting:
        raise AsteriskUnavailable(
            f"{ENV} is not set: point it at an Asterisk 22 tarball or binary "
            "(scripts/test uses ../shared/tools/asterisk-22/ when present)"
        )
    path = Path(setting).expanduser()
    if not path.exists():
        raise AsteriskUnavailable(f"{ENV}={setting}: no such file or folder")
    if path.is_dir():
        tarballs = sorted(p for p in path.iterdir() if p.name.endswith(TARBALL_SUFFIXES))
        if (path / "sbin" / "asterisk").exists():
            return _tree(path / "sbin" / "asterisk")
        if (path / "asterisk" / "sbin" / "asterisk").exists():
            return _tree(path / "asterisk" / "sbin" / "asterisk")
        if not tarballs:
            raise AsteriskUnavailable(f"{ENV}={setting}: the folder has no sbin/asterisk and no Asterisk tarball")
        path = tarballs[-1]
    if path.name.endswith(TARBALL_SUFFIXES):
        return _tree(_unpack(path, unpack_into))
    if os.access(path, os.X_OK):
        return _tree(path)
    raise AsteriskUnavailable(f"{ENV}={setting}: neither a tarball nor an executable asterisk binary")


def _unpack(tarball: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    if tarball.name.endswith(".tar.zst"):
        if shutil.which("zstd") is None:
            raise AsteriskUnavailable("zstd is needed to unpack the Asterisk tarball: apt-get install zstd")
        command = f"zstd -dc -- {_quote(tarball)} | tar -x -C {_quote(into)}"
    else:
        command = f"tar -xf {_quote(tarball)} -C {_quote(into)}"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True)
    if result.returncode != 0:
        raise AsteriskUnavailable(f"could not unpack {tarball}: {result.stderr.strip()}")
    found = sorted(into.glob("**/sbin/asterisk"))
    if not found:
        raise AsteriskUnavailable(f"{tarball} holds no sbin/asterisk")
    return found[0]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _tree(binary: Path) -> Build:
    root = binary.resolve().parent.parent
    modules = next(
        (
            p
            for p in (
                root / "lib" / "asterisk" / "modules",
                root / "lib64" / "asterisk" / "modules",
                Path("/usr/lib/asterisk/modules"),
                Path("/usr/lib/x86_64-linux-gnu/asterisk/modules"),
            )
            if p.is_dir()
        ),
        None,
    )
    documentation = next(
        (
            p
            for p in (
                root / "var" / "lib" / "asterisk" / "documentation",
                root / "share" / "asterisk" / "documentation",
                Path("/var/lib/asterisk/documentation"),
                Path("/usr/share/asterisk/documentation"),
            )
            if p.is_dir()
        ),
        None,
    )
    if modules is None or documentation is None:
        raise AsteriskUnavailable(f"{binary}: cannot find its modules and XML documentation next to it")
    keys = root / "var" / "lib" / "asterisk" / "keys"
    missing = _missing_libraries(binary)
    if missing:
        raise AsteriskUnavailable(
            f"{binary} cannot run, shared libraries missing: {' '.join(missing)} "
            "(Debian: apt-get install libssl3 libcurl4 libedit2 libjansson4 libsqlite3-0 libsrtp2-1 libuuid1 "
            "libxml2 libxslt1.1 zlib1g libstdc++6 libcrypt1; scripts/test installs them)"
        )
    return Build(binary, modules, documentation, keys if keys.is_dir() else None)


def _missing_libraries(binary: Path) -> list[str]:
    try:
        result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split()[0] for line in result.stdout.splitlines() if "not found" in line]


# ---- configuration generated from config/asterisk/ ----


@dataclass(frozen=True)
class Ports:
    sip: int
    ami: int
    http: int
    agi: int
    #: Where the carrier trunk sends calls (overflow, transfer, call-backs): a SIPp "citizen" phone.
    carrier: int
    #: Source ports of SIPp callers, each identified as the carrier.
    callers: tuple[int, ...]
    #: SIP phones of lawyers (PJSIP/2001…) that SIPp answers, by endpoint name.
    phones: dict[str, int]
    rtp_start: int
    rtp_end: int


@dataclass(frozen=True)
class Config:
    ports: Ports
    ami_username: str
    ami_secret: str
    #: WebRTC endpoint passwords by endpoint name (1001, 1002 in the sample).
    webrtc_passwords: dict[str, str]
    #: Every change made to the samples, in words (for failures and the README).
    changes: list[str] = field(default_factory=list)


def choose_ports(callers: int = 14, phones: Iterable[str] = ("2001", "2002", "2003", "2004")) -> Ports:
    names = list(phones)
    picked = free_ports(5 + callers + len(names))
    rtp = free_port_range(200)
    return Ports(
        sip=picked[0],
        ami=picked[1],
        http=picked[2],
        agi=picked[3],
        carrier=picked[4],
        callers=tuple(picked[5 : 5 + callers]),
        phones=dict(zip(names, picked[5 + callers :], strict=True)),
        rtp_start=rtp,
        rtp_end=rtp + 199,
    )


def generate_config(target: Path, ports: Ports, samples: Path = SAMPLES) -> Config:
    """Write the configuration into `target` from the sample files."""
    target.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(12)
    passwords: dict[str, str] = {}
    changes: list[str] = []

    def replace(text: str, pattern: str, repl: str, what: str) -> str:
        new, count = re.subn(pattern, repl, text, flags=re.MULTILINE)
        if count == 0:
            raise AssertionError(f"sample changed: cannot {what} (pattern {pattern!r})")
        changes.append(what)
        return new

    manager = (samples / "manager.conf").read_text()
    manager = replace(manager, r"^port = \d+", f"port = {ports.ami}", f"AMI on 127.0.0.1:{ports.ami}")
    manager = replace(manager, r"^secret = change-me-\S+", f"secret = {secret}", "AMI secret set")
    (target / "manager.conf").write_text(manager)

    http = (samples / "http.conf").read_text()
    http = replace(http, r"^bindport = \d+", f"bindport = {ports.http}", f"HTTP/WebSocket on 127.0.0.1:{ports.http}")
    http = replace(http, r"^tlsenable = yes", "tlsenable = no", "TLS off (plain ws:// on loopback)")
    (target / "http.conf").write_text(http)

    pjsip = (samples / "pjsip.conf").read_text()
    pjsip = replace(pjsip, r"^bind = 0\.0\.0\.0:5060", f"bind = 127.0.0.1:{ports.sip}", f"SIP UDP on {ports.sip}")
    pjsip = replace(
        pjsip, r"^protocol = wss\nbind = 0\.0\.0\.0", "protocol = ws\nbind = 127.0.0.1", "WebSocket transport ws"
    )
    pjsip = replace(
        pjsip, r"^contact = sip:192\.0\.2\.10:5060", f"contact = sip:127.0.0.1:{ports.carrier}", "carrier → SIPp"
    )
    matches = "\n".join(f"match = 127.0.0.1:{port}" for port in ports.callers)
    pjsip = replace(pjsip, r"^match = 192\.0\.2\.10", matches, "carrier identified by the SIPp callers' ports")

    def password(match: re.Match[str]) -> str:
        name = match.group(1)
        passwords[name] = secrets.token_hex(8)
        return f"password = {passwords[name]}"

    pjsip, count = re.subn(r"^password = change-me-(\S+)", password, pjsip, flags=re.MULTILINE)
    assert count, "sample pjsip.conf has no placeholder passwords any more"
    changes.append("WebRTC passwords set")
    pjsip += "\n; ---- added by the tests: SIP phones of lawyers, answered by SIPp ----\n"
    for name, port in ports.phones.items():
        pjsip += (
            f"[{name}]\ntype = endpoint\ntransport = transport-udp\ncontext = hotline-lawyers\ndisallow = all\n"
            f"allow = ulaw,alaw\naors = {name}\ndirect_media = no\ndtmf_mode = rfc4733\n"
            f'callerid = "lawyer {name}" <{name}>\n'
            f"[{name}]\ntype = aor\ncontact = sip:{name}@127.0.0.1:{port}\n"
        )
    changes.append(f"SIP phones {', '.join(ports.phones)} for the lawyers (SIPp)")
    (target / "pjsip.conf").write_text(pjsip)

    def copy_with(name: str, pattern: str, repl: str, what: str) -> None:
        (target / name).write_text(replace((samples / name).read_text(), pattern, repl, what))

    copy_with(
        "extensions.conf",
        r"^HOTLINE_AGI=agi://127\.0\.0\.1:4573",
        f"HOTLINE_AGI=agi://127.0.0.1:{ports.agi}",
        f"FastAGI at 127.0.0.1:{ports.agi}",
    )
    copy_with(
        "queues.conf",
        r"^timeout = 20 ",
        f"timeout = {RING_TIMEOUT_S} ",
        f"queue ring timeout {RING_TIMEOUT_S} s (tests outlast a ring sooner)",
    )
    (target / "rtp.conf").write_text(
        f"[general]\nrtpstart = {ports.rtp_start}\nrtpend = {ports.rtp_end}\nicesupport = yes\n"
    )
    (target / "modules.conf").write_text(
        "[modules]\nautoload = yes\n" + "".join(f"noload = {name}.so\n" for name in NOLOAD.split())
    )
    (target / "logger.conf").write_text(
        "[general]\ndateformat = %F %T.%3q\n[logfiles]\nmessages.log = notice,warning,error,verbose\n"
    )
    (target / "musiconhold.conf").write_text(
        "[default]\nmode = files\ndirectory = moh\n" if Path("/usr/share/asterisk/moh").is_dir() else ""
    )
    return Config(ports, "hotline", secret, passwords, changes)


# ---- the running Asterisk ----


class Asterisk:
    """One Asterisk process in `home` (at most 80 characters: control socket path)."""

    def __init__(self, build: Build, home: Path, config: Config) -> None:
        if len(str(home)) > 80:
            raise ValueError(f"Asterisk home too long for its control socket: {home}")
        self.build = build
        self.home = home
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self.etc = home / "etc"
        self.log = home / "asterisk.log"
        self.monitor_dir = home / "spool" / "monitor"
        self.messages = home / "log" / "messages.log"
        self._messages_offset = 0
        self._queue_log_offset = 0

    @property
    def ports(self) -> Ports:
        return self.config.ports

    @property
    def ami(self) -> tuple[str, int, str, str]:
        """host, port, username, secret of the AMI account from the sample manager.conf."""
        return "127.0.0.1", self.ports.ami, self.config.ami_username, self.config.ami_secret

    def _write_asterisk_conf(self) -> None:
        home = self.home
        for sub in ("run", "log", "spool", "lib/db", "cache", "data", "lib/agi-bin"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        data = home / "data"
        for name, source in (
            ("documentation", self.build.documentation),
            ("sounds", Path("/usr/share/asterisk/sounds")),
            ("moh", Path("/usr/share/asterisk/moh")),
        ):
            link = data / name
            if source.is_dir() and not link.exists():
                link.symlink_to(source)
        keys = home / "lib" / "keys"
        if self.build.keys is not None and not keys.exists():
            shutil.copytree(self.build.keys, keys)
        keys.mkdir(exist_ok=True)
        (self.etc / "asterisk.conf").write_text(
            "[directories]\n"
            f"astetcdir => {self.etc}\nastmoddir => {self.build.modules}\nastvarlibdir => {home / 'lib'}\n"
            f"astdbdir => {home / 'lib' / 'db'}\nastkeydir => {home / 'lib'}\nastdatadir => {data}\n"
            f"astagidir => {home / 'lib' / 'agi-bin'}\nastspooldir => {home / 'spool'}\n"
            f"astrundir => {home / 'run'}\nastlogdir => {home / 'log'}\nastcachedir => {home / 'cache'}\n"
            f"astsbindir => {self.build.binary.parent}\n"
            "[options]\nverbose = 3\ntimestamp = yes\nnocolor = yes\ndocumentation_language = en_US\n"
            "defaultlanguage = en\nhideconnect = yes\n"
        )

    def start(self, timeout_s: float = 60) -> None:
        self._write_asterisk_conf()
        (self.home / "run" / "asterisk.ctl").unlink(missing_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(self.build.binary), "-C", str(self.etc / "asterisk.conf"), "-f"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Asterisk exited during start-up:\n{self.tail()}")
            if (self.home / "run" / "asterisk.ctl").exists():
                result = self._rx("core waitfullybooted", timeout=10, check=False)
                if result.returncode == 0:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"Asterisk not fully booted after {timeout_s:.0f} s:\n{self.tail()}")
            time.sleep(0.2)

    def _rx(self, command: str, timeout: float = 15, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.build.binary), "-C", str(self.etc / "asterisk.conf"), "-rx", command],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"asterisk -rx {command!r} failed: {result.stderr or result.stdout}")
        return result

    def cli(self, command: str, timeout: float = 15) -> str:
        """One CLI command (`asterisk -rx`), its output."""
        return self._rx(command, timeout).stdout

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """`core stop now`, then SIGTERM, then SIGKILL."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            self._rx("core stop now", timeout=10, check=False)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL, as a crash (fault tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def members(self) -> dict[str, list[str]]:
        """Queue name -> member interfaces, from `queue show` ("Name (PJSIP/1001) ..." or "PJSIP/2001 ...")."""
        queues: dict[str, list[str]] = {}
        current = None
        in_members = False
        for line in self.cli("queue show").splitlines():
            if line and not line.startswith(" "):
                current = line.split()[0]
                queues[current] = []
                in_members = False
            elif line.strip().startswith("Members:"):
                in_members = True
            elif line.strip().startswith(("No Callers", "Callers:", "No Members")):
                in_members = False
            elif current and in_members:
                match = re.search(r"(?<![\w/])((?:PJSIP|SIP|Local|IAX2|DAHDI)/[^\s)]+)", line)
                if match:
                    queues[current].append(match.group(1))
        return queues

    def queue_status(self) -> list[dict[str, str]]:
        """The QueueMember entries of AMI QueueStatus, asked on a session of its own (plain socket, not
        the bridge's code): Asterisk's word on membership and pauses."""
        host, port, username, secret = self.ami
        with socket.create_connection((host, port), timeout=10) as sock:
            stream = sock.makefile("rwb")
            stream.readline()  # "Asterisk Call Manager/…"
            for action in (f"Action: Login\r\nUsername: {username}\r\nSecret: {secret}\r\nEvents: off",
                           "Action: QueueStatus\r\nActionID: qs"):  # fmt: skip
                stream.write(f"{action}\r\n\r\n".encode())
            stream.flush()
            members: list[dict[str, str]] = []
            while True:
                message: dict[str, str] = {}
                while (line := stream.readline().decode(errors="replace").rstrip("\r\n")) != "":
                    key, _, value = line.partition(": ")
                    message[key] = value
                if message.get("Response") == "Error":
                    raise RuntimeError(f"QueueStatus refused: {message}")
                if message.get("Event") == "QueueMember":
                    members.append(message)
                if message.get("Event") == "QueueStatusComplete":
                    stream.write(b"Action: Logoff\r\n\r\n")
                    stream.flush()
                    return members

    def queue_log(self) -> list[list[str]]:
        """Asterisk's own queue_log (time|callid|queue|agent|event|data...), one list per line: what
        app_queue reported, independently of the AMI events the bridge reads."""
        path = self.home / "log" / "queue_log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return [line.split("|") for line in lines[self._queue_log_offset :]]

    def log_mark(self) -> int:
        """A place in Asterisk's messages log, for log_since()."""
        return self.messages.stat().st_size if self.messages.exists() else 0

    def log_since(self, mark: int) -> str:
        """Asterisk's messages log (notices, warnings, errors, verbose) from `mark` on."""
        with self.messages.open("rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")

    def log_since_reset(self) -> str:
        return self.log_since(self._messages_offset)

    def call_log(self, caller_number: str) -> str:
        """The log lines (since the reset) of the call from `caller_number`: what Asterisk played and
        when, for the failure message of a test that waited for that call in vain."""
        log = self.log_since_reset()
        found = re.search(rf"\[(C-[0-9a-f]+)\][^\n]*call from {re.escape(caller_number)}\b", log)
        if found is None:
            return f"(no call from {caller_number} in Asterisk's log)"
        return "\n".join(line for line in log.splitlines() if f"[{found.group(1)}]" in line)

    def reset(self) -> None:
        """Between tests: no channels, no dynamic queue members, queue statistics at zero."""
        self.cli("channel request hangup all")
        for queue, interfaces in self.members().items():
            for interface in interfaces:
                self.cli(f"queue remove member {interface} from {queue}")
        self.cli("queue reset stats")
        deadline = time.monotonic() + 10
        while "0 active channels" not in self.cli("core show channels count") and time.monotonic() < deadline:
            time.sleep(0.1)
        self._messages_offset = self.log_mark()
        self._queue_log_offset += len(self.queue_log())
