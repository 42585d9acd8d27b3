"""Running Rasa 3.6 from its own environment (.venv-rasa): training, serving, waiting until it answers.

The app never imports `rasa`; it runs the `rasa` command of `.venv-rasa` and talks to it over HTTP.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from dealerbot.logging import get_logger
from dealerbot.settings import PROJECT_ROOT
from nlu.trainingdata import load, write

log = get_logger("nlu.rasa")


@dataclass(frozen=True)
class RasaProject:
    root: Path = PROJECT_ROOT

    @property
    def venv(self) -> Path:
        return self.root / ".venv-rasa"

    @property
    def rasa(self) -> Path:
        return self.venv / "bin" / "rasa"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def config(self) -> Path:
        return self.root / "config.yml"

    @property
    def data_dir(self) -> Path:
        return self.root / "nlu" / "data"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    def data_files(self) -> list[Path]:
        return sorted(self.data_dir.rglob("*.yml"))  # recursive: nlu/data/intents/*.yml and the rest

    def content_hash(self) -> str:
        """Hash of what a model is made of: the pipeline, the training data, the Rasa environment."""
        digest = hashlib.sha256()
        lock = self.root / "nlu" / "requirements-rasa.txt"
        components = sorted((self.root / "nlu" / "rasa_components").glob("*.py"))
        for path in [self.config, lock, *components, *self.data_files()]:
            digest.update(path.relative_to(self.root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
        return digest.hexdigest()[:16]

    def model_path(self) -> Path:
        return self.models_dir / f"nlu-{self.content_hash()}.tar.gz"


def user_cache_dir() -> Path:
    """The user's cache folder for dealerbot: $DEALERBOT_CACHE_DIR, else $XDG_CACHE_HOME/dealerbot, else
    ~/.cache/dealerbot (what a fresh checkout may reuse: nothing in it depends on the checkout)."""
    if os.environ.get("DEALERBOT_CACHE_DIR"):
        return Path(os.environ["DEALERBOT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dealerbot"


def rasa_env(
    project: RasaProject | None = None, cache_dir: Path | None = None, embedding_cache: Path | None = None
) -> dict[str, str]:
    env = dict(os.environ)
    project = project or RasaProject()
    # config.yml names custom components (nlu/rasa_components) by module path.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project.root), env.get("PYTHONPATH")]))
    env.update(
        RASA_CACHE_DIRECTORY=str(cache_dir or project.var_dir / "rasa-cache"),
        # Sentence embeddings of training texts (nlu/rasa_components/sentence_embeddings.py); shared by
        # every training of every checkout, as each write is atomic and an entry depends only on the text
        # and the encoder's version.
        DEALERBOT_EMBEDDING_CACHE=str(embedding_cache or user_cache_dir() / "embedding-cache"),
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


# The server parses one message at a time (Rasa runs the graph in its event loop); its numeric libraries'
# own thread pools would only spin beside it (a parse cost 80-90 ms of CPU for ~30 ms of wall time on two
# cores) and take the cores other requests, the app and the database need. One thread each.
SERVER_THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def server_env(project: RasaProject | None = None) -> dict[str, str]:
    """The environment of a serving Rasa process: rasa_env with one thread per numeric library."""
    return {**rasa_env(project), **SERVER_THREADS}


def _require_rasa(project: RasaProject) -> None:
    if not project.rasa.exists():
        raise SystemExit(f"{project.rasa} is missing; run `make setup` (it creates .venv-rasa with Rasa 3.6)")


@dataclass(frozen=True)
class TrainResult:
    model: Path
    trained: bool
    seconds: float


def train(
    project: RasaProject,
    force: bool = False,
    config: Path | None = None,
    data: Path | None = None,
    out: Path | None = None,
    name: str | None = None,
    quiet: bool = True,
    cache_dir: Path | None = None,
    embedding_cache: Path | None = None,
) -> TrainResult:
    """Train the NLU model unless one for the same config and data exists (content hash).

    Without `data`, the project's nlu/data/ is first written as one file in a fixed order (intents by
    name, each intent's examples in the order written; see `combined_training_file`), so the model
    depends on the examples, not on how they are spread over files.
    """
    _require_rasa(project)
    out = out or project.models_dir
    target = out / f"{name}.tar.gz" if name else project.model_path()
    if target.exists() and not force:
        return TrainResult(target, False, 0.0)
    out.mkdir(parents=True, exist_ok=True)
    combined = None
    if data is None:
        combined = data = combined_training_file(project, out / f".{target.name.removesuffix('.tar.gz')}-training.yml")
    command = [
        str(project.rasa),
        "train",
        "nlu",
        "--config",
        str(config or project.config),
        "--nlu",
        str(data),
        "--out",
        str(out),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=project.root,
            env=rasa_env(project, cache_dir, embedding_cache),
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            text=True,
            check=False,
        )
    finally:
        if combined is not None:
            combined.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not target.exists():
        tail = (done.stdout or "")[-3000:] if quiet else ""
        raise RuntimeError(f"rasa train failed (exit {done.returncode}):\n{tail}")
    log.info("nlu_trained", model=target.name, seconds=round(seconds, 1))
    return TrainResult(target, True, seconds)


def combined_training_file(project: RasaProject, path: Path) -> Path:
    """nlu/data/ as one Rasa NLU file: intents in name order, then synonyms, regexes and lookups.

    Rasa's classifiers see examples in the order they are read; ordering them here makes the trained
    model independent of the folder layout, and the same as the cross-validation folds are written.
    """
    data = load(project.data_dir)
    examples = sorted(data.examples, key=lambda example: example.intent)  # stable: keeps each intent's order
    write(path, examples, data.other_sections)
    return path


def start_server(project: RasaProject, model: Path, host: str, port: int, log_file: Path) -> subprocess.Popen[bytes]:
    """Start `rasa run --enable-api` in the background; its output goes to log_file."""
    _require_rasa(project)
    if not model.is_file():
        # Rasa would silently fall back to the newest model under ./models instead.
        raise FileNotFoundError(f"no model file at {model}")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as sink:
        return subprocess.Popen(
            [
                str(project.python),
                "-m",
                "nlu.rasa_components.serve",  # `rasa run`, without jax (see that module)
                "run",
                "--enable-api",
                "--model",
                str(model),
                "--interface",
                host,
                "--port",
                str(port),
            ],
            cwd=project.root,
            env=server_env(project),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def server_model(url: str, timeout: float = 2.0) -> str | None:
    """The model file a server at url has loaded, or None if nothing (ready) answers there."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/status", timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        model = response.json().get("model_file")
    except ValueError:
        return None
    return Path(model).name if model else None


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes] | None, timeout: float = 180.0, log_file: Path | None = None
) -> float:
    """Poll the server until it answers a parse; return the seconds it took. Raise if it died or timed out."""
    started = time.perf_counter()
    while True:
        if process is not None and process.poll() is not None:
            tail = log_file.read_text(errors="replace")[-3000:] if log_file and log_file.exists() else ""
            raise RuntimeError(f"the Rasa server exited with status {process.returncode}:\n{tail}")
        try:
            response = httpx.post(f"{url.rstrip('/')}/model/parse", json={"text": "hello"}, timeout=5.0)
            if response.status_code == 200 and "intent" in response.json():
                return time.perf_counter() - started
        except (httpx.HTTPError, ValueError):
            pass
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"the Rasa server did not answer at {url} within {timeout:.0f} s")
        time.sleep(0.25)


def stop_process(pid: int, timeout: float = 15.0) -> bool:
    """Stop a server process group started by start_server; True if something was stopped."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


@dataclass(frozen=True)
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    ready_seconds: float


@contextmanager
def running_server(project: RasaProject, model: Path, port: int, log_file: Path) -> Iterator[RunningServer]:
    """A server on 127.0.0.1:port for the duration of the block, stopped afterwards whatever happens."""
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = start_server(project, model, "127.0.0.1", port, log_file)
    try:
        wait_until_ready(url, process, log_file=log_file)
        yield RunningServer(url, process, time.perf_counter() - started)
    finally:
        stop_process(process.pid)


def print_err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
