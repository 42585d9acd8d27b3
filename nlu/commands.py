"""What `dealerbot nlu train|serve|stop|parse|eval` do."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from nlu import rasa
from nlu.client import NluClient, Parse
from nlu.evaluation import Report, score
from nlu.trainingdata import Example, load, stratified_folds, write
from dealerbot.logging import get_logger

log = get_logger("nlu.commands")


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5005


def pid_file(project: rasa.RasaProject) -> Path:
    return project.var_dir / "rasa.pid"


def train(project: rasa.RasaProject, force: bool = False) -> rasa.TrainResult:
    return rasa.train(project, force=force)


@dataclass(frozen=True)
class ServeResult:
    model: Path
    pid: int | None
    started: bool
    seconds: float


def serve(project: rasa.RasaProject, url: str, detach: bool, timeout: float = 180.0) -> ServeResult:
    """Train if needed, start the server on url's port and wait until it answers.

    If a server already answers there with the current model, it is reused. With detach the command
    returns once the server answers (its pid in var/rasa.pid); otherwise it stays until interrupted.
    """
    model = rasa.train(project).model
    running = rasa.server_model(url)
    if running == model.name:
        pid = _read_pid(project)
        return ServeResult(model, pid, False, 0.0)
    if running is not None:
        old = _read_pid(project)
        if old is None:
            raise RuntimeError(f"another Rasa server (model {running}) answers at {url}; stop it first")
        rasa.stop_process(old)
    host, port = host_port(url)
    if _port_busy(host, port):
        raise RuntimeError(f"port {port} on {host} is in use by something that is not a Rasa server")
    log_file = project.var_dir / "rasa.log"
    process = rasa.start_server(project, model, host, port, log_file)
    try:
        seconds = rasa.wait_until_ready(url, process, timeout=timeout, log_file=log_file)
    except BaseException:
        rasa.stop_process(process.pid)
        raise
    pid_file(project).write_text(str(process.pid))
    if detach:
        return ServeResult(model, process.pid, True, seconds)
    rasa.print_err(f"Rasa server ready at {url} in {seconds:.1f} s with {model.name}; Ctrl-C stops it")
    try:
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        rasa.stop_process(process.pid)
        pid_file(project).unlink(missing_ok=True)
    return ServeResult(model, process.pid, True, seconds)


def stop(project: rasa.RasaProject) -> bool:
    pid = _read_pid(project)
    pid_file(project).unlink(missing_ok=True)
    return rasa.stop_process(pid) if pid else False


def _read_pid(project: rasa.RasaProject) -> int | None:
    try:
        pid = int(pid_file(project).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def _port_busy(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_one(url: str, text: str) -> Parse:
    async def run() -> Parse:
        async with NluClient(url, timeout=10.0) as client:
            return await client.parse(text)

    return asyncio.run(run())


def render_parse(parse: Parse) -> str:
    lines = [f"intent: {parse.intent}  confidence: {parse.confidence:.3f}"]
    if parse.degraded:
        lines.append(f"degraded: {parse.degraded} (the NLU server did not classify this message)")
    for entity in parse.entities:
        lines.append(f"entity: {entity.name} = {entity.value!r}  (text {entity.text!r}, {entity.start}-{entity.end})")
    for name, confidence in parse.ranking[1:4]:
        lines.append(f"  also: {name} {confidence:.3f}")
    return "\n".join(lines)


async def predict(url: str, examples: list[Example], concurrency: int = 4) -> list[Parse]:
    """Parse every example with the served model; a degraded answer is an error, not a prediction."""
    semaphore = asyncio.Semaphore(concurrency)
    async with NluClient(url, timeout=30.0, retries=2) as client:

        async def one(example: Example) -> Parse:
            async with semaphore:
                result = await client.parse(example.text)
            if result.degraded and result.degraded != "empty":
                raise RuntimeError(f"the NLU server did not answer ({result.degraded}) for {example.text!r}")
            return result

        return list(await asyncio.gather(*(one(e) for e in examples)))


def evaluate_file(url: str, path: Path) -> Report:
    data = load(path)
    if not data.examples:
        raise ValueError(f"{path} has no intent examples")
    if rasa.server_model(url) is None:
        raise RuntimeError(f"no Rasa server answers at {url}; start one with `dealerbot nlu serve`")
    parses = asyncio.run(predict(url, data.examples))
    return score(data.examples, parses)


@dataclass
class CrossValidation:
    report: Report
    train_seconds: list[float]
    folds: int
    # Every held-out example with its parse and its fold (0-based), in the order they were parsed.
    held_out: list[tuple[int, Example, Parse]] = field(default_factory=list)

    def predictions(self) -> list[dict]:
        """One JSON-ready row per held-out example: to study decision rules (thresholds) offline."""
        return [
            {
                "fold": fold,
                "text": example.text,
                "intent": example.intent,
                "language": example.language,
                "predicted": parse.intent,
                "confidence": round(parse.confidence, 5),
                "ranking": [[name, round(p, 5)] for name, p in parse.ranking],
            }
            for fold, example, parse in self.held_out
        ]


def cross_validate(
    project: rasa.RasaProject, folds: int, config: Path | None = None, progress: bool = True,
    only_fold: int | None = None,
) -> CrossValidation:
    """k-fold cross-validation over the training data: train on k-1 folds, parse the held-out fold
    with a real server, score all held-out predictions together. only_fold (1-based) runs that fold alone:
    one held-out measurement at a fifth of the cost, to compare two pipelines or data versions."""
    if only_fold is not None and not 1 <= only_fold <= folds:
        raise ValueError(f"fold {only_fold} does not exist in {folds} folds")
    data = load(project.data_dir)
    split = stratified_folds(data.examples, folds)
    gold: list[Example] = []
    predicted: list[Parse] = []
    folds_of: list[int] = []
    seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dealerbot-cv-") as tmp:
        root = Path(tmp)
        for index, held_out in enumerate(split):
            if only_fold is not None and index != only_fold - 1:
                continue
            training = [e for j, fold in enumerate(split) if j != index for e in fold]
            fold_dir = root / f"fold{index}"
            fold_dir.mkdir()
            write(fold_dir / "train.yml", training, data.other_sections)
            started = time.perf_counter()
            result = rasa.train(
                project,
                force=True,
                config=config,
                data=fold_dir / "train.yml",
                out=root / "models",
                name=f"fold{index}",
                cache_dir=root / "cache",  # a fold's cache must never serve another run
            )
            seconds.append(time.perf_counter() - started)
            with rasa.running_server(project, result.model, free_port(), root / f"fold{index}.log") as server:
                parses = asyncio.run(predict(server.url, held_out))
            gold.extend(held_out)
            predicted.extend(parses)
            folds_of.extend([index] * len(held_out))
            if progress:
                partial = score(held_out, parses)
                rasa.print_err(
                    f"fold {index + 1}/{folds}: {len(held_out)} examples, macro F1 {partial.macro_f1:.3f}, "
                    f"trained in {seconds[-1]:.0f} s"
                )
    return CrossValidation(score(gold, predicted), seconds, folds, list(zip(folds_of, gold, predicted)))
