#!/usr/bin/env python3
"""Every relative link in README.md, results/README.md and docs/*.md points at a file that
exists, and every #anchor at a heading (GitHub's slugs) or an <a id> of that file.

Usage: check_links.py REPOSITORY_ROOT   (exit 1 listing the broken links)
"""
import glob
import os
import re
import sys

CODE_BLOCK = re.compile(r"```.*?```", re.S)


def slug(heading):
    heading = re.sub(r"[^\w\- ]", "", heading.strip().lower())  # GitHub drops punctuation
    return heading.replace(" ", "-")


def anchors(path):
    text = open(path, encoding="utf-8").read()
    ids = set(re.findall(r'<a id="([^"]+)"', text))
    seen = {}
    for heading in re.findall(r"^#{1,6} (.+)$", CODE_BLOCK.sub("", text), flags=re.M):
        name = slug(heading)
        count = seen.get(name, 0)
        seen[name] = count + 1
        ids.add(name if count == 0 else f"{name}-{count}")
    return ids


def main(root):
    pages = [os.path.join(root, "README.md"), os.path.join(root, "results", "README.md")]
    pages += sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    checked = broken = 0
    for page in pages:
        text = CODE_BLOCK.sub("", open(page, encoding="utf-8").read())
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            checked += 1
            path, _, fragment = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(dest):
                print(f"{page}: {target}: no such file")
                broken += 1
            elif fragment and dest.endswith(".md") and fragment not in anchors(dest):
                print(f"{page}: {target}: no such heading")
                broken += 1
    print(f"{checked} links checked, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
