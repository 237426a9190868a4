"""A small GitHub Actions runner simulation for tests: runs a composite action's or a workflow job's `run:` steps.

What it does like the runner: a fresh ``GITHUB_OUTPUT`` file per step, read back into ``steps.<id>.outputs``; one
``GITHUB_STEP_SUMMARY``; ``GITHUB_EVENT_NAME``/``GITHUB_EVENT_PATH`` with the event payload; ``${{ }}``
expressions in ``env:``, ``with:`` and ``if:`` (contexts ``inputs``, ``steps``, ``github``, ``runner``, ``env``,
``secrets``, ``vars``; operators ``== != && || !``, parentheses, ``always() success() failure() cancelled()``);
``bash --noprofile --norc -eo pipefail`` for ``shell: bash``; later steps skipped after a failure unless their
``if:`` says otherwise; ``continue-on-error``.

What it does not: ``uses:`` steps are recorded (with their evaluated condition and inputs) but not run, except a
workflow step that uses *this* action, which runs the action's own steps. Steps whose id is in ``replace`` are
not run either; their outputs are given (the install step: ismap-scan is already installed in the test venv).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!()<>,])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_*][A-Za-z0-9_\-]*)*))"
)


class ExprError(Exception):
    pass


def _truthy(v: Any) -> bool:
    return v not in (None, False, "", 0)


class _Parser:
    """Recursive descent over the tokens of one expression (the subset the action and examples use)."""

    def __init__(self, text: str, ctx: dict[str, Any], status: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ExprError(f"cannot parse {text!r} at {pos}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.ctx = ctx
        self.status = status

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExprError(f"trailing tokens {self.tokens[self.i :]}")
        return value

    def or_(self) -> Any:
        left = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            left = left if _truthy(left) else right
        return left

    def and_(self) -> Any:
        left = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.cmp()
            left = right if _truthy(left) else left
        return left

    def cmp(self) -> Any:
        left = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.unary()
            same = (
                str(left if left is not None else "").lower()
                == str(right if right is not None else "").lower()
            )
            left = same if op == "==" else not same
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.atom()

    def atom(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "op" and text == "(":
            value = self.or_()
            if self.take() != ("op", ")"):
                raise ExprError("expected )")
            return value
        if kind == "name":
            if self.peek() == ("op", "("):
                self.take()
                if self.take() != ("op", ")"):
                    raise ExprError(f"function {text} with arguments is not supported")
                return self.call(text)
            if text in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[text]
            value: Any = self.ctx
            for part in text.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return value
        raise ExprError(f"unexpected token {text!r}")

    def call(self, name: str) -> bool:
        if name == "always":
            return True
        if name == "success":
            return self.status == "success"
        if name == "failure":
            return self.status == "failure"
        if name == "cancelled":
            return False
        raise ExprError(f"unsupported function {name}()")


def evaluate(expr: str, ctx: dict[str, Any], status: str = "success") -> Any:
    return _Parser(expr, ctx, status).parse()


def substitute(value: Any, ctx: dict[str, Any]) -> str:
    """A string with every ``${{ … }}`` replaced by its value (``None`` → empty, booleans lower case)."""

    def one(m: re.Match[str]) -> str:
        v = evaluate(m.group(1), ctx)
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    return _EXPR.sub(one, str(value))


def condition(raw: Any, ctx: dict[str, Any], status: str) -> bool:
    """A step's ``if:`` (absent = ``success()``); a condition without a status function implies success()."""
    if raw is None:
        return status == "success"
    text = str(raw).strip()
    m = _EXPR.fullmatch(text)
    if m:
        text = m.group(1)
    result = _truthy(evaluate(text, ctx, status))
    if not re.search(r"\b(always|failure|cancelled|success)\(\)", text):
        result = result and status == "success"
    return result


@dataclass
class StepRecord:
    name: str
    id: str
    kind: str  # "run", "uses", "replaced", "skipped"
    outcome: str  # success, failure, skipped
    uses: str = ""
    with_: dict[str, str] = field(default_factory=dict)
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""


@dataclass
class Run:
    """What happened: every step in order, the job summary text, the final status."""

    steps: list[StepRecord]
    summary: str
    status: str
    outputs: dict[str, str]
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    children: list[Run] = field(default_factory=list)

    def step(self, name_or_id: str) -> StepRecord:
        for s in self.steps:
            if name_or_id in (s.id, s.name):
                return s
        raise KeyError(name_or_id)

    @property
    def log(self) -> str:
        return "\n".join(s.stdout + s.stderr for s in self.steps)


class Runner:
    """Runs steps in ``workspace`` with a simulated runner environment for ``event_name``/``event``."""

    def __init__(
        self,
        workspace: Path,
        event_name: str,
        event: dict[str, Any],
        *,
        base_env: dict[str, str] | None = None,
        path_prefix: str = "",
        secrets: dict[str, str] | None = None,
        vars_: dict[str, str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.temp = workspace / "_runner_temp"
        self.temp.mkdir(parents=True, exist_ok=True)
        self.summary_path = self.temp / "step_summary.md"
        self.summary_path.touch()
        self.event_path = self.temp / "event.json"
        self.event_path.write_text(json.dumps(event), encoding="utf-8")
        self.event_name = event_name
        self.event = event
        self.secrets = secrets or {}
        self.vars = vars_ or {}
        env = dict(base_env if base_env is not None else os.environ)
        if path_prefix:
            env["PATH"] = path_prefix + os.pathsep + env.get("PATH", "")
        env.update(
            GITHUB_ACTIONS="true",
            CI="true",
            GITHUB_EVENT_NAME=event_name,
            GITHUB_EVENT_PATH=str(self.event_path),
            GITHUB_STEP_SUMMARY=str(self.summary_path),
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_REPOSITORY="example-org/example-infra",
            GITHUB_RUN_ID="1001",
            GITHUB_WORKFLOW_REF="example-org/example-infra/.github/workflows/test.yml@refs/heads/main",
            RUNNER_TEMP=str(self.temp),
            RUNNER_OS="Linux",
        )
        env.pop("GITHUB_OUTPUT", None)
        env.pop("GITHUB_PATH", None)
        self.env = env

    def _ctx(
        self, steps: dict[str, Any], inputs: dict[str, str], env: dict[str, str], action_path: str
    ) -> dict:
        return {
            "inputs": inputs,
            "steps": steps,
            "env": env,
            "secrets": self.secrets,
            "vars": self.vars,
            "runner": {"temp": str(self.temp), "os": "Linux"},
            "github": {
                "event_name": self.event_name,
                "event": self.event,
                "action_path": action_path,
                "workspace": str(self.workspace),
                "token": "ghs_fake-token-for-tests",
                "run_id": "1001",
                "repository": "example-org/example-infra",
                "ref": "refs/heads/main",
                "job": "scan",
            },
        }

    def _run_shell(self, script: str, env: dict[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
        with tempfile.NamedTemporaryFile("w", suffix=".sh", dir=self.temp, delete=False) as fh:
            fh.write(script)
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", fh.name],
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def run_steps(
        self,
        steps: list[dict[str, Any]],
        *,
        inputs: dict[str, str] | None = None,
        action_path: Path = REPO,
        replace: dict[str, dict[str, str]] | None = None,
        only_run: Any = None,
        expand_action: Any = None,
        job_env: dict[str, str] | None = None,
    ) -> Run:
        """Run ``steps``. ``only_run(step) -> bool`` picks which ``run:`` steps execute (default all);
        ``expand_action(step) -> Run | None`` runs a ``uses:`` step in place (our own action)."""
        inputs = inputs or {}
        replace = replace or {}
        contexts: dict[str, Any] = {}
        records: list[StepRecord] = []
        children: list[Run] = []
        status = "success"
        base_env = dict(self.env)
        base_env["GITHUB_ACTION_PATH"] = str(action_path)
        for n, step in enumerate(steps):
            sid = str(step.get("id") or f"__{n}")
            name = str(step.get("name") or step.get("uses") or sid)
            env_ctx = {**(job_env or {})}
            ctx = self._ctx(contexts, inputs, env_ctx, str(action_path))
            if not condition(step.get("if"), ctx, status):
                records.append(StepRecord(name, sid, "skipped", "skipped", uses=str(step.get("uses", ""))))
                contexts[sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            if sid in replace:
                contexts[sid] = {"outputs": dict(replace[sid]), "outcome": "success", "conclusion": "success"}
                records.append(StepRecord(name, sid, "replaced", "success"))
                continue
            step_env = {k: substitute(v, ctx) for k, v in (step.get("env") or {}).items()}
            if "uses" in step:
                with_ = {
                    k: substitute(v, {**ctx, "env": {**env_ctx, **step_env}})
                    for k, v in (step.get("with") or {}).items()
                }
                sub = expand_action(step, with_) if expand_action else None
                if sub is None:
                    records.append(
                        StepRecord(name, sid, "uses", "success", uses=str(step["uses"]), with_=with_)
                    )
                    contexts[sid] = {"outputs": {}, "outcome": "success", "conclusion": "success"}
                    continue
                records.extend(sub.steps)
                children.append(sub)
                outcome = sub.status
                contexts[sid] = {"outputs": sub.outputs, "outcome": outcome, "conclusion": outcome}
                if outcome != "success" and not step.get("continue-on-error"):
                    status = "failure"
                continue
            if only_run is not None and not only_run(step):
                records.append(StepRecord(name, sid, "skipped", "skipped"))
                contexts[sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            out_file = self.temp / f"output_{id(contexts)}_{n}.txt"
            out_file.write_text("", encoding="utf-8")
            env = {**base_env, **{k: substitute(v, ctx) for k, v in (job_env or {}).items()}, **step_env}
            env["GITHUB_OUTPUT"] = str(out_file)
            workdir = self.workspace / substitute(step.get("working-directory", "."), ctx)
            proc = self._run_shell(
                substitute(step["run"], ctx) if "${{" in step["run"] else step["run"], env, workdir
            )
            outputs = parse_output_file(out_file.read_text(encoding="utf-8"))
            outcome = "success" if proc.returncode == 0 else "failure"
            records.append(
                StepRecord(
                    name,
                    sid,
                    "run",
                    outcome,
                    returncode=proc.returncode,
                    stdout=proc.stdout,
                    stderr=proc.stderr,
                )
            )
            conclusion = "success" if step.get("continue-on-error") else outcome
            contexts[sid] = {"outputs": outputs, "outcome": outcome, "conclusion": conclusion}
            if conclusion == "failure":
                status = "failure"
        step_outputs = {sid: dict(c["outputs"]) for sid, c in contexts.items()}
        return Run(records, self.summary_path.read_text(encoding="utf-8"), status, {}, step_outputs, children)


def parse_output_file(text: str) -> dict[str, str]:
    """Read a ``GITHUB_OUTPUT`` file (``name=value`` lines and ``name<<DELIM`` blocks) like the runner."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            while lines[i] != delim:
                body.append(lines[i])
                i += 1
            i += 1
            out[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def load_yaml(path: Path) -> dict[str, Any]:
    """YAML as GitHub reads it: the key ``on`` stays a string (PyYAML would make it ``True``)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def run_action(runner: Runner, inputs: dict[str, str], replace: dict[str, dict[str, str]]) -> Run:
    """Run ``action.yml`` with ``inputs`` (defaults filled in from its metadata, expressions evaluated)."""
    action = load_yaml(REPO / "action.yml")
    ctx = runner._ctx({}, {}, {}, str(REPO))
    full = {k: substitute(spec.get("default", ""), ctx) for k, spec in action["inputs"].items()}
    full.update(inputs)
    run = runner.run_steps(action["runs"]["steps"], inputs=full, replace=replace)
    steps_ctx = {sid: {"outputs": outs} for sid, outs in run.step_outputs.items()}
    octx = runner._ctx(steps_ctx, full, {}, str(REPO))
    run.outputs = {k: substitute(spec["value"], octx) for k, spec in action["outputs"].items()}
    return run
