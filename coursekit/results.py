"""Exercism's test-runner results.json, version 3, from a run of a lesson's tests."""

from __future__ import annotations

from .runner import RunResult

OUTPUT_LIMIT = 500


def results_v3(run: RunResult) -> dict:
    if run.error:
        return {"version": 3, "status": "error", "message": run.error, "tests": []}
    tests = []
    for test in run.tests:
        entry = {"name": test.name, "status": test.status, "test_code": test.test_code, "task_id": test.task_id}
        if test.status != "pass":
            entry["message"] = test.longrepr or test.message
        if test.output:
            entry["output"] = test.output[:OUTPUT_LIMIT]
        tests.append(entry)
    status = "pass" if tests and all(test["status"] == "pass" for test in tests) else "fail"
    return {"version": 3, "status": status, "tests": tests}
