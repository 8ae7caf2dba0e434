"""A task's container as a local process: its command, environment and namespace.

``container_command(image, definition, override)`` and ``container_environment(...)`` apply
ECS's and Docker's rules to a task's container definition and its image
(``emulator.runtime.images``): the container's ``entryPoint`` replaces the image's
ENTRYPOINT and then drops the image's CMD (Docker's merge of a container's config with its
image's), ``command`` (or the RunTask override) replaces CMD; the environment is the image's
ENV, what ECS adds, the container's ``environment``, the override's and the resolved
``secrets``. Image paths in the command, the working directory and the environment's values
become local paths (``LocalImage.local``).

``Container`` runs it: ``Shim.build`` compiles ``bindshim.c`` once into the runtime directory
(``cc -shared -fPIC``); each process of a task gets it with ``LD_PRELOAD`` and its settings
(the task's loopback address and container ports) in ``<task dir>/bind.conf``, so the
application's ``0.0.0.0:PORT`` becomes the task's own address. It runs in a mount namespace
of its own (``unshare --mount``; as root: the process stays root, since the pyenv Python under
/root is not readable by others and an image's ``USER`` cannot be honoured; otherwise
``unshare --map-root-user --mount``) with the runtime's hosts file bind-mounted over
``/etc/hosts``, so the VPC's names (database and cache endpoints) resolve for the task only.
The bind mount pins the file as it is when the process starts: a name added later is seen by
processes started later. Its ``HOME`` is an empty directory of the task's: a container has no
``~/.aws``, and the host's must not give the task credentials that are not its role's.

Standard output and error go, line by line, to ``on_line``; ``stop`` sends SIGTERM and,
after the stop timeout, SIGKILL to everything the container started; ``exec`` runs another
command the same way (the container health check).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable

from emulator.runtime.images import LocalImage

SHIM_SOURCE = Path(__file__).with_name("bindshim.c")
# A process killed by signal N exits 128+N, as Docker reports it (SIGTERM: 143).
SIGNAL_EXIT_BASE = 128


class StartError(RuntimeError):
    """The container cannot start; ``str()`` is ECS's stopped reason."""


def _oci_error(detail: str) -> StartError:
    """The reason Fargate gives when the runtime cannot start the container's process."""
    return StartError("CannotStartContainerError: ResourceInitializationError: failed to create "
                      "new container runtime task: failed to create shim task: OCI runtime "
                      "create failed: runc create failed: unable to start container process: "
                      f"{detail}: unknown")


class Shim:
    """The compiled bind shim and the tools a task's processes are started with."""

    def __init__(self, path: Path, tools: dict[str, str]) -> None:
        self.path, self.tools = path, tools

    @classmethod
    def build(cls, directory: Path) -> Shim:
        """Compile the shim into ``directory``; RuntimeError naming what is missing."""
        compiler = shutil.which("cc") or shutil.which("gcc")
        tools = {name: shutil.which(name) for name in ("setpriv", "unshare", "mount")}
        missing = ["a C compiler (cc)"] if compiler is None else []
        missing += [f"{name} (util-linux)" for name, path in tools.items() if path is None]
        if missing:
            raise RuntimeError(f"the ECS task runner needs {', '.join(missing)}: install gcc "
                               "and util-linux (apt-get install gcc util-linux)")
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "bindshim.so"
        built = subprocess.run([str(compiler), "-shared", "-fPIC", "-O2", "-o", str(target),
                                str(SHIM_SOURCE), "-ldl"], capture_output=True, text=True,
                               check=False)
        if built.returncode != 0:
            raise RuntimeError(f"compiling {SHIM_SOURCE} failed: {built.stderr.strip()}")
        return cls(target, {name: str(path) for name, path in tools.items()})

    def prefix(self, hosts: Path) -> list[str]:
        """The command prefix: killed with the emulator's thread that started it (no
        process outlives the emulator, even killed), in a mount namespace with ``hosts`` as
        /etc/hosts."""
        namespace = [self.tools["unshare"], "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            namespace.insert(1, "--map-root-user")
        return [self.tools["setpriv"], "--pdeathsig", "KILL", "--", *namespace, "/bin/sh", "-c",
                f'{self.tools["mount"]} --bind "$0" /etc/hosts && exec "$@"', str(hosts)]


def container_command(image: LocalImage, definition: dict[str, Any],
                      override: dict[str, Any]) -> list[str]:
    """The container's argv in image paths (ECS's entryPoint/command over the image's)."""
    entrypoint = definition.get("entryPoint")
    command = override.get("command") or definition.get("command")
    if entrypoint:
        argv = [*entrypoint, *(command or [])]
    else:
        argv = [*image.config.entrypoint, *(command or image.config.cmd)]
    if not argv:
        raise _oci_error("exec: no command: the image has no CMD and the task definition none")
    return argv


def container_environment(image: LocalImage, definition: dict[str, Any],
                          override: dict[str, Any], ecs: dict[str, str],
                          secrets: dict[str, str]) -> dict[str, str]:
    """Image ENV < what ECS adds < environment < override < secrets; paths mapped (not in
    secret values)."""
    environment = dict(image.config.env)
    environment.update(ecs)
    for source in (definition.get("environment") or [], override.get("environment") or []):
        environment.update({item["name"]: item["value"] for item in source})
    mapped = {name: image.local(value) for name, value in environment.items()}
    mapped.update(secrets)
    return mapped


def resolve_executable(argv0: str, path: str) -> str:
    """``argv0`` found as exec would find it in the container's PATH, or StartError."""
    candidates = [argv0] if "/" in argv0 else [os.path.join(d, argv0) for d in path.split(":")
                                               if d]
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise _oci_error(f'exec: "{argv0}": executable file not found in $PATH' if "/" not in argv0
                     else f'exec: "{argv0}": stat {argv0}: no such file or directory')


def exit_code(returncode: int) -> int:
    return SIGNAL_EXIT_BASE - returncode if returncode < 0 else returncode


class Container:  # pylint: disable=too-many-instance-attributes
    """One running container of a task."""

    def __init__(self, *, shim: Shim, directory: Path, hosts: Path, address: str,
                 ports: list[int], on_line: Callable[[str], None]) -> None:
        self.shim, self.directory, self.hosts = shim, directory, hosts
        self.address, self.ports, self.on_line = address, ports, on_line
        self.process: subprocess.Popen[bytes] | None = None
        self.environment: dict[str, str] = {}
        self.cwd = "/"
        self._pumps: list[threading.Thread] = []

    def _prepare(self, environment: dict[str, str]) -> dict[str, str]:
        """The task directory (shim link, its settings, an empty home) and the process
        environment: the container's, with the shim preloaded and that home."""
        home = self.directory / "home"
        home.mkdir(parents=True, exist_ok=True)
        link = self.directory / "bindshim.so"
        if not link.exists():
            link.symlink_to(self.shim.path)
        (self.directory / "bind.conf").write_text(
            " ".join([self.address, *map(str, self.ports)]) + "\n", encoding="utf-8")
        return {"HOME": str(home), **environment, "LD_PRELOAD": str(link)}

    def start(self, argv: list[str], cwd: str, environment: dict[str, str]) -> int:
        """Start the process (StartError when it cannot); its pid."""
        executable = resolve_executable(argv[0], environment.get("PATH", ""))
        if not os.path.isdir(cwd):
            raise _oci_error(f'chdir to cwd ("{cwd}") set in config.json failed: no such file '
                             "or directory")
        self.environment, self.cwd = self._prepare(environment), cwd
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [*self.shim.prefix(self.hosts), executable, *argv[1:]], cwd=cwd,
            env=self.environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)
        for stream in (self.process.stdout, self.process.stderr):
            pump = threading.Thread(target=self._pump, args=(stream,), daemon=True)
            pump.start()
            self._pumps.append(pump)
        return self.process.pid

    def _pump(self, stream: Any) -> None:
        with stream:
            for raw in stream:
                self.on_line(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def wait(self) -> int:
        """Block until the process exits; its exit code (Docker's, 128+N for a signal).
        Whatever it left behind in its process group is killed: a container's processes
        end with it."""
        assert self.process is not None
        code = exit_code(self.process.wait())
        self._kill_group()
        for pump in self._pumps:
            pump.join(timeout=5)
        return code

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float) -> None:
        """SIGTERM to the process, SIGKILL to its group after ``timeout`` seconds."""
        if not self.running():
            return
        assert self.process is not None
        try:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill_group()
        except ProcessLookupError:
            pass

    def _kill_group(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def exec(self, argv: list[str], timeout: float) -> int | None:
        """Run ``argv`` in the container's environment (``docker exec``); its exit code, or
        None after ``timeout`` seconds (it is killed) or when it cannot start."""
        try:
            executable = resolve_executable(argv[0], self.environment.get("PATH", ""))
        except StartError:
            return None
        with subprocess.Popen([*self.shim.prefix(self.hosts), executable, *argv[1:]],
                              cwd=self.cwd, env=self.environment, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) as process:
            try:
                return exit_code(process.wait(timeout=timeout))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return None
