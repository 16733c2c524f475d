"""A PromQL checker from the Prometheus Go module, for the tests of the gateway's alert rules.

``promqlcheck`` reads PromQL expressions, one JSON string a line, and answers one JSON object a
line: the expression, and either ``error`` (Prometheus' own parser's message) or ``metrics``,
the metric names its selectors use (a ``__name__`` matcher's value, regular expression
included). The parser is ``github.com/prometheus/prometheus/promql/parser`` at VERSION, the one
promtool and the Prometheus server use; only that package is compiled (about 35 s cold, with the
module download; cached after).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from .gobuild import cache_root, cached_outputs, go_env, run_logged, write_module

MODULE = "github.com/prometheus/prometheus"
VERSION = "v0.316.0"
MAIN_GO = """package main

import (
\t"bufio"
\t"encoding/json"
\t"fmt"
\t"os"

\t"github.com/prometheus/prometheus/promql/parser"
)

var promql = parser.NewParser(parser.Options{})

func main() {
\tscanner := bufio.NewScanner(os.Stdin)
\tscanner.Buffer(make([]byte, 1<<20), 1<<20)
\tfor scanner.Scan() {
\t\tvar expr string
\t\tout := map[string]any{}
\t\tif err := json.Unmarshal(scanner.Bytes(), &expr); err != nil {
\t\t\tout["error"] = "input is not a JSON string: " + err.Error()
\t\t} else if parsed, err := promql.ParseExpr(expr); err != nil {
\t\t\tout["error"] = err.Error()
\t\t} else {
\t\t\tnames := []string{}
\t\t\tparser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
\t\t\t\tif selector, ok := node.(*parser.VectorSelector); ok {
\t\t\t\t\tname := selector.Name
\t\t\t\t\tfor _, matcher := range selector.LabelMatchers {
\t\t\t\t\t\tif matcher.Name == "__name__" {
\t\t\t\t\t\t\tname = matcher.Value
\t\t\t\t\t\t}
\t\t\t\t\t}
\t\t\t\t\tnames = append(names, name)
\t\t\t\t}
\t\t\t\treturn nil
\t\t\t})
\t\t\tout["metrics"] = names
\t\t}
\t\tout["expr"] = expr
\t\tline, _ := json.Marshal(out)
\t\tfmt.Println(string(line))
\t}
}
"""


def build_promql_check() -> Path:
    """The promqlcheck binary (built once, cached)."""
    sources = {
        "go.mod": f"module otel-kubernetes.local/promqlcheck\n\ngo 1.24\n\nrequire {MODULE} {VERSION}\n",
        "main.go": MAIN_GO,
    }
    key = hashlib.sha256(repr(sorted(sources.items())).encode()).hexdigest()[:12]

    def build(staging: Path) -> None:
        source = cache_root() / "build" / f"promqlcheck-{VERSION}"
        write_module(source, sources)
        env, logfile = go_env(), staging / "build.log"
        run_logged(f"promqlcheck {VERSION}: go mod tidy", ["go", "mod", "tidy"], logfile, cwd=source, env=env)
        run_logged(
            f"promqlcheck {VERSION}: go build",
            ["go", "build", "-ldflags", "-s -w", "-o", staging / "promqlcheck", "."],
            logfile,
            cwd=source,
            env=env,
        )

    return (
        cached_outputs(cache_root() / "bin" / f"promqlcheck-{VERSION}-{key}", ("promqlcheck",), build) / "promqlcheck"
    )


def check(expressions: list) -> list:
    """[{expr, error | metrics}] for each expression, from Prometheus' parser."""
    text = "".join(json.dumps(e) + "\n" for e in expressions)
    done = subprocess.run([build_promql_check()], input=text, capture_output=True, text=True, timeout=60, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]
