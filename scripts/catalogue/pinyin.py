#!/usr/bin/env python3
"""Fills in the pinyin of the catalogue's items, so residents can search by pinyin or its initials
(`dianchi`, `dc` for 电池) without the server carrying a dictionary. Run it after adding or renaming an item:

    python3 scripts/catalogue/pinyin.py Resources/catalogue.json          # rewrites each item's "pinyin"
    python3 scripts/catalogue/pinyin.py --check Resources/catalogue.json  # non-zero exit when one is stale

An item's "pinyin" lists its Chinese name's then each Chinese alias's, syllables without tones separated by
spaces, ü written v (lü -> lv). Needs pypinyin (PyPI, MIT): pip install pypinyin. Each item is one line of the
file; only those lines are rewritten.
"""
import argparse
import json
import re
import sys

ITEM = re.compile(r'^(\s*)(\{"category": .*\})(,?)\s*$')


def syllables(text):
    from pypinyin import Style, lazy_pinyin
    # Letters and digits only: "84消毒液" -> "84 xiao du ye".
    return " ".join(s.replace("ü", "v") for s in lazy_pinyin(text, style=Style.NORMAL, v_to_u=False)
                    if s.strip()).lower()


def expected(item):
    return [syllables(item["name"]["zh"])] + [syllables(a) for a in item.get("aliases", {}).get("zh", [])]


def render(item):
    order = ["category", "name", "aliases", "pinyin", "guidance"]
    ordered = {k: item[k] for k in order if k in item}
    ordered.update({k: v for k, v in item.items() if k not in ordered})
    return json.dumps(ordered, ensure_ascii=False, separators=(", ", ": "))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalogue")
    parser.add_argument("--check", action="store_true", help="only report items whose pinyin is missing or stale")
    args = parser.parse_args()
    with open(args.catalogue, encoding="utf-8") as f:
        lines = f.read().split("\n")
    stale, out, inside = [], [], False
    for number, line in enumerate(lines, 1):
        if line.strip().startswith('"items": ['):
            inside = True
        elif inside and line.strip().startswith("]"):
            inside = False
        m = ITEM.match(line) if inside else None
        if m:
            item = json.loads(m.group(2))
            want = expected(item)
            if item.get("pinyin") != want:
                stale.append(f"{args.catalogue}:{number}: {item['name']['zh']}: pinyin {item.get('pinyin')} should be {want}")
                item["pinyin"] = want
            line = m.group(1) + render(item) + m.group(3)
        out.append(line)
    if args.check:
        for s in stale:
            print(s, file=sys.stderr)
        sys.exit(1 if stale else 0)
    with open(args.catalogue, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print(f"{args.catalogue}: {len(stale)} items' pinyin written")


if __name__ == "__main__":
    main()
