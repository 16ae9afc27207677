"""Reading a results folder as hostile input: a file is read only if it is a regular file
inside the folder, opened without following a link, and of bounded size.

Whoever can write a results folder can plant a link (cells.csv -> /etc/shadow), a FIFO
(blocks a reader forever) or a huge file; istlab's own reader refuses all three
(docs/running.md, "Who may write a results folder"), and so does this one.
"""

import os
import stat

# The largest file read: CSV files of large sweeps reach hundreds of MB, a manifest far less.
MAX_CSV_BYTES = 2 << 30
MAX_MANIFEST_BYTES = 64 << 20


class ResultsError(Exception):
    """A results folder or file that cannot be read; the message names it and says why."""


def regular_file(folder, name):
    """The path of ``folder/name`` if it is a regular file that is not a link, else None.

    Used to decide what a report may link to: a link or a FIFO planted in the folder is left
    out, so the page never points a browser outside the folder.
    """
    path = os.path.join(folder, name)
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return path if stat.S_ISREG(info.st_mode) else None


def open_inside(folder, name, limit=MAX_CSV_BYTES):
    """Opens ``folder/name`` for reading as text, refusing links, non-regular files and files
    over ``limit`` bytes with a ResultsError naming the file."""
    path = os.path.join(folder, name)
    # O_NONBLOCK: opening a planted FIFO must not wait for a writer.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ResultsError("{}: no such file".format(path)) from None
    except OSError as error:
        if os.path.islink(path):
            raise ResultsError("{}: is a symbolic link; istlab reads no link in a results "
                               "folder (remove it and rerun the sweep)".format(path)) from None
        raise ResultsError("{}: cannot be opened ({})".format(path, error.strerror)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ResultsError("{}: is not a regular file; istlab reads only regular files in a "
                           "results folder".format(path))
    if info.st_size > limit:
        os.close(fd)
        raise ResultsError("{}: is {} bytes, more than the {} istlab reads".format(
            path, info.st_size, limit))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "r", encoding="utf-8", errors="replace", newline="")
