#!/usr/bin/python3
"""The example notebook end to end: examples/own_data.ipynb executes with Debian's nbclient
and the python3 kernel (own data file, config, sweep, load, plot, report), every cell without
an error, and leaves its figure and report behind. Outputs are not written back into the
notebook (it is committed without them).

Usage: run_notebook.py NOTEBOOK WORK    (ISTLAB_BINARY and PYTHONPATH set by ctest;
                                         exit 77 when nbclient or ipykernel is missing)
"""

import os
import sys

try:
    import ipykernel  # noqa: F401  (the kernel nbclient starts)
    import nbclient
    import nbformat
except ImportError as missing:
    print("SKIP: {} (apt-get install python3-nbclient python3-ipykernel)".format(missing))
    sys.exit(77)


def main():
    notebook, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    os.environ["ISTLAB_EXAMPLE_WORK"] = work
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # quiets debugpy at kernel start
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     record_timing=False,
                                     resources={"metadata": {"path": os.path.dirname(notebook)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        print("FAIL the notebook stopped at a cell:\n{}".format(str(error)[-2000:]))
        return 1
    texts = "\n".join(out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
                      for cell in nb.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    failures = []
    for name, ok in (
            ("the sweep ran", "my_first_sweep: 12 cells" in texts),
            ("the figure was written", os.path.getsize(os.path.join(work, "my_first_sweep.png"))
             > 20000),
            ("the report was written", os.path.getsize(os.path.join(work, "my_first_sweep.html"))
             > 100000),
            ("the plot's summary line", "1x2 panels (one row, columns: split)" in texts),
            ("the figure is shown", any("image/png" in out.get("data", {}) for cell in nb.cells
                                        if cell.cell_type == "code"
                                        for out in cell.get("outputs", [])))):
        print("{} {}".format("ok  " if ok else "FAIL", name))
        if not ok:
            failures.append(name)
    print("all checks passed" if not failures else "{} checks failed".format(len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
