"""Build the offline documentation site in `_docs/` from nbdev's processed notebooks.

`nbdev_docs` renders the official site with quarto, which cannot be installed on our CI machines.
This script does the same two steps without it:

1. **Process** every notebook of `nbs/` with nbdev's own processors (`nbdev.processors.FilterDefaults`,
   what `nbdev_proc_nbs` runs) into `_proc/`: `#| hide` cells and the source of `#| export` cells
   go, a `show_doc` cell with the signature and docstring follows every exported definition, the
   title cell becomes front matter, and names in backticks become links. `nbdev_proc_nbs` itself
   would first try to install quarto, so we call the processors directly. One rule differs:
   nbdev's `exec_show_docs` also runs cells that mix imports with other code (and warns about
   them); such cells need variables of earlier cells, so here they are not run. A `show_doc` that
   fails (fastcore's docments cannot compare a numpy-array default) gets the same information from
   `inspect` instead, and the build says which.
2. **Render** `_proc/` into one page per notebook (`index.ipynb` is `index.html`), in the order of
   the sidebar nbdev writes for quarto (`nbdev_sidebar`): a sidebar, previous/next links, API
   entries (signature, docstring and the source in a collapsed `<details>`), outputs and figures
   (as PNG files), math as MathML (`latex2mathml`), code highlighted by Pygments, and a search
   whose index is built here (`assets/search-index.js`, read by our own `assets/site.js`).
   Nothing is loaded from the network. Each page opens with its title, summary, first paragraph and
   first figure ("lead figure", a copy of the figure further down, linked to it).

Then it checks what it built (every figure of a notebook on its page, every exported definition
with its signature and docstring, no import-only cell, no internal link without a target) and exits
1 with the list of problems. `tests/test_docs_site.py` opens the pages in headless Chromium.

    python scripts/build_docs.py          # build _docs/
    python scripts/build_docs.py --open   # build, then open _docs/index.html in the default browser
"""
import argparse, ast, base64, html, inspect, json, os, re, reprlib, shutil, struct, sys, textwrap, time
from pathlib import Path

root = Path(__file__).resolve().parents[1]
NBS, PROC, OUT = root / 'nbs', root / '_proc', root / '_docs'
ASSETS = Path(__file__).resolve().parent / 'docs_assets'
SITE = 'sniascore'

_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*)$')
_SHOW_DOC = re.compile(r'^\s*show_doc\((?P<name>[\w.]+)\)\s*$', re.M)
_ANSI = re.compile(r'\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])')
_TAG = re.compile(r'<[^>]+>')


# ------------------------------------------------------------------------------------------------
# 1. nbdev processing
# ------------------------------------------------------------------------------------------------

def code_of(source):
    "A code cell's source without its leading `#|` directives."
    lines = source.splitlines()
    while lines and (_DIRECTIVE.match(lines[0]) or not lines[0].strip()): lines.pop(0)
    return '\n'.join(lines)


def directives(source):
    "The leading `#| key: value` and `#| flag args` directives of a cell, as a dict."
    out = {}
    for line in source.splitlines():
        m = _DIRECTIVE.match(line)
        if not m:
            if line.strip(): break
            continue
        text = m.group(1).strip()
        key, value = text.split(':', 1) if ':' in text else (text.partition(' ')[0], text.partition(' ')[2])
        out[key.strip()] = value.strip()
    return out


def is_import_only(code):
    "True for code made only of import statements (what the docs never show)."
    try: tree = ast.parse(code)
    except SyntaxError: return False
    return bool(tree.body) and all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in tree.body)


def fallback_doc(obj, name):
    "Markdown with what nbdev's `show_doc` gives (heading, signature, docstring), from `inspect`."
    short = reprlib.Repr(); short.maxstring = short.maxother = 40
    try:
        sig = inspect.signature(obj)
        params = []
        for p in sig.parameters.values():
            s = p.name if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) else ('*' if p.kind == p.VAR_POSITIONAL else '**') + p.name
            if p.annotation is not p.empty: s += ':' + inspect.formatannotation(p.annotation)
            if p.default is not p.empty: s += '=' + ' '.join(short.repr(p.default).split())
            params.append(s)
        ret = '' if sig.return_annotation is sig.empty else '->' + inspect.formatannotation(sig.return_annotation)
        body = textwrap.fill(', '.join(params), 100, initial_indent='    ', subsequent_indent='    ', break_on_hyphens=False, break_long_words=False)
        sig_md = f'```python\ndef {name.split(".")[-1]}(\n{body}\n){ret}:\n```'
    except (TypeError, ValueError):
        sig_md = ''
    doc = inspect.getdoc(obj) or ''
    return f'---\n\n### {name}\n\n{sig_md}\n\n' + (f'*{doc}*\n' if doc else '')


def processors():
    "nbdev's processors (`FilterDefaults`), with `exec_show_docs` replaced by `ExecExported`."
    import nbdev.processors as P

    def runs(cell):
        "nbdev's `_do_eval`, without its rule that runs any cell holding an import."
        if P.cell_lang(cell) != 'python' or cell.cell_type != 'code' or not cell.source: return False
        if 'nbdev_export' + '()' in cell.source: return False
        if cell.directives_.get('eval:', [''])[0].lower() == 'false': return False
        try: trees = cell.parsed_()
        except SyntaxError: return False
        if not trees: return False
        if cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}: return True
        if all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in trees): return True
        return bool(P._show_docs(trees))

    class ExecExported(P.exec_show_docs):
        "Run exported cells, import-only cells and `show_doc` calls; a failed `show_doc` falls back to `inspect`."
        failed = []
        def __call__(self, cell):
            if not self.nb.has_docs_ or not hasattr(self, 'k') or not runs(cell): return
            if str(getattr(self.nb, 'frontmatter_', {}).get('skip_showdoc', False)).lower() in ('true', '1', 'yes'): return
            self.k.cell(cell)
            if not self.k.exc: return
            exc, self.k.exc = self.k.exc, None
            m = _SHOW_DOC.search(cell.source)
            if not m: raise RuntimeError(f'{self.nb.path_}: exported cell {cell.idx_} fails:\n{cell.source}') from exc
            obj = eval(m['name'], self.k.user_ns)
            cell.outputs = [dict(output_type='execute_result', execution_count=None, metadata={},
                                 data={'text/markdown': fallback_doc(obj, m['name']), 'text/plain': m['name']})]
            ExecExported.failed.append(f'{Path(self.nb.path_).name}: show_doc({m["name"]}) failed ({type(exc).__name__}: '
                                       f'{str(exc)[:60]}); signature taken from inspect')

    class Filter(P.FilterDefaults):
        def base_procs(self): return [ExecExported if p is P.exec_show_docs else p for p in super().base_procs()]

    return Filter, ExecExported


def process_notebooks(paths):
    "Write `_proc/<name>.ipynb` for each notebook with nbdev's processors; returns notes on fallbacks."
    import warnings
    from execnb.nbio import read_nb, write_nb
    Filter, ExecExported = processors()
    PROC.mkdir(exist_ok=True)
    os.environ['IN_TEST'] = '1'  # as nbdev's serve_drv: notebooks' `if not IN_TEST` guards stay off
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for path in paths:
            nb = read_nb(path)
            Filter()(nb)
            write_nb(nb, PROC / path.name)
    os.environ.pop('IN_TEST', None)
    return list(ExecExported.failed)


def sidebar_order():
    "Notebooks in the order of the `sidebar.yml` nbdev writes for quarto (index first, then by name)."
    import yaml
    from nbdev.quarto import nbdev_sidebar
    nbdev_sidebar.__wrapped__(path=str(NBS), force=True)
    contents = yaml.safe_load((NBS / 'sidebar.yml').read_text())['website']['sidebar']['contents']
    flat = []
    def walk(items):
        for it in items:
            if isinstance(it, str): flat.append(it)
            else: flat.extend([it['href']] if 'href' in it else []); walk(it.get('contents', []))
    walk(contents)
    return [NBS / f for f in flat if f.endswith('.ipynb')]


# ------------------------------------------------------------------------------------------------
# 2. rendering
# ------------------------------------------------------------------------------------------------

def slugify(text):
    "Pandoc's (and so quarto's) identifier for a heading: the anchors nbdev's links point to."
    s = html.unescape(_TAG.sub('', text)).strip().lower()
    s = re.sub(r'[^\w\s.-]', '', s)
    s = re.sub(r'\s+', '-', s)
    s = re.sub(r'^[^a-z_]+', '', s)
    return s or 'section'


class Ids:
    "Unique ids on one page; API anchors are reserved first so that nbdev's links find them."
    def __init__(self, reserved=()):
        self.used = set(reserved)
    def new(self, text):
        base = slugify(text); s, k = base, 0
        while s in self.used: k += 1; s = f'{base}-{k}'
        self.used.add(s)
        return s


class Site:
    "What every page needs to know about the others: files, titles, order, the official site's URL."
    def __init__(self, pages, doc_url):
        self.pages = pages           # list of dicts: nb, file, title, title_html, description, ...
        self.doc_url = doc_url.rstrip('/') + '/'
        self.by_nb = {p['nb']: p['file'] for p in pages}


def make_markdown(site, ids, math_errors):
    "A mistune renderer: heading ids, MathML math, links rewritten to pages of this site."
    import mistune
    from latex2mathml.converter import convert

    class Renderer(mistune.HTMLRenderer):
        def heading(self, text, level, **attrs):
            hid = ids.new(text)
            return f'<h{level} id="{hid}"><a class="anchor" href="#{hid}" aria-hidden="true">#</a>{text}</h{level}>\n'
        def link(self, text, url, title=None):
            return super().link(text, local_url(site, url), title)
        def block_code(self, code, info=None):
            return highlight(code, (info or '').split()[0] if info else '')

    def mathml(latex, display):
        try: return convert(latex, display=display)
        except Exception as e:  # keep the page; the build reports it
            math_errors.append(f'{latex!r}: {e}')
            return f'<code class="math-error">{html.escape(latex)}</code>'

    md = mistune.create_markdown(renderer=Renderer(escape=False), plugins=['table', 'strikethrough', 'footnotes', 'math'])
    md.renderer.register('inline_math', lambda r, text: mathml(text, 'inline'))
    md.renderer.register('block_math', lambda r, text: f'<div class="math-block">{mathml(text, "block")}</div>\n')
    return md


def local_url(site, url):
    "Links to the official site or to notebooks become links to pages of this site."
    if url.startswith(site.doc_url): url = url[len(site.doc_url):]
    m = re.match(r'^(?:\./)?(?:nbs/)?([\w.-]+\.ipynb)(#.*)?$', url)
    if m and m.group(1) in site.by_nb: url = site.by_nb[m.group(1)] + (m.group(2) or '')
    return url


_lexers = {}
def highlight(code, lang='python'):
    from pygments import highlight as hl
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    lang = {'': 'text', 'sh': 'bash', 'shell': 'bash', 'py': 'python'}.get(lang, lang)
    if lang not in _lexers:
        try: _lexers[lang] = get_lexer_by_name(lang)
        except ClassNotFound: _lexers[lang] = get_lexer_by_name('text')
    return hl(code.rstrip('\n'), _lexers[lang], HtmlFormatter(cssclass='highlight'))


def png_size(data):
    "Width and height from a PNG header."
    return struct.unpack('>II', data[16:24]) if data[:8] == b'\x89PNG\r\n\x1a\n' else (None, None)


def text_of(output_text):
    return _ANSI.sub('', ''.join(output_text) if isinstance(output_text, list) else output_text)


class Page:
    "One notebook rendered: body fragments, figures, sections and search entries."
    def __init__(self, site, info, raw, proc, out=OUT):
        self.site, self.info, self.raw, self.proc, self.out = site, info, raw, proc, out
        self.figures, self.problems, self.math_errors = [], [], []
        self.api_names = []       # exported definitions documented on this page

    # --- the exported definitions of the raw notebook
    def exported(self):
        "{name: (cell index, node, code, is_class)} for each def/class of an `#| export` cell; and other exported statements per cell."
        defs, others = {}, {}
        for i, c in enumerate(self.raw['cells']):
            if c['cell_type'] != 'code': continue
            d = directives(c['source'])
            if not ({'export', 'exporti'} & d.keys()) or 'hide' in d: continue
            code = code_of(c['source'])
            try: tree = ast.parse(code)
            except SyntaxError: continue
            rest = []
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    defs[node.name] = (i, node, code, isinstance(node, ast.ClassDef))
                elif not isinstance(node, (ast.Import, ast.ImportFrom)):
                    rest.append(node)
            if rest: others[i] = (code, rest)
        return defs, others

    def render(self):
        raw_ids = {c.get('id'): i for i, c in enumerate(self.raw['cells'])}
        defs, others = self.exported()
        api = []
        for c in self.proc['cells']:
            m = _SHOW_DOC.search(c['source']) if c['cell_type'] == 'code' else None
            if m: api.append(m['name'])
        self.ids = Ids(reserved={slugify(n) for n in api})
        self.md = make_markdown(self.site, self.ids, self.math_errors)
        items, seq = [], 0
        for c in self.proc['cells']:
            seq += 1
            if c['cell_type'] == 'raw': continue                     # front matter
            m = _SHOW_DOC.search(c['source']) if c['cell_type'] == 'code' else None
            if m:
                name = m['name']; base = name.split('.')[0]
                where = defs.get(base, (raw_ids.get(c.get('id'), 10**6),))[0]
                line = defs[base][1].lineno if base in defs else seq
                items.append(((where, 2, line), 'api', (name, c, defs.get(base))))
            elif c.get('id') in raw_ids:
                items.append(((raw_ids[c['id']], 0, seq), c['cell_type'], c))
        for i, (code, nodes) in others.items():
            items.append(((i, 1, 0), 'exported', (code, nodes)))
        items.sort(key=lambda t: t[0])
        body = []
        for _, kind, payload in items:
            if kind == 'markdown': frag = self.markdown_cell(payload)
            elif kind == 'code': frag = self.code_cell(payload)
            elif kind == 'api': frag = self.api_entry(*payload)
            else: frag = self.exported_source(*payload)
            if frag: body.append((kind, frag))
        return self.with_lead_figure(body)

    # --- cells
    def markdown_cell(self, c):
        src = c['source'].strip()
        if not src or (src.startswith('<!--') and src.endswith('-->')): return ''
        return f'<div class="prose">{self.md(src)}</div>'

    def code_cell(self, c):
        d = directives(c['source'])
        if d.get('include') == 'false': return ''
        code = code_of(c['source']).strip()
        outputs = [] if d.get('output') == 'false' else c.get('outputs', [])
        show_code = code and d.get('echo') != 'false' and not is_import_only(code)
        outs = ''.join(self.output(o) for o in outputs)
        if not show_code and not outs: return ''
        src = f'<div class="cell-code">{highlight(code)}</div>' if show_code else ''
        return f'<div class="cell">{src}{outs}</div>'

    def output(self, o):
        kind = o.get('output_type')
        if kind == 'stream':
            text = text_of(o.get('text', ''))
            if not text.strip(): return ''
            return f'<pre class="output {o.get("name", "stdout")}">{html.escape(text.rstrip())}</pre>'
        if kind == 'error':
            return f'<pre class="output error">{html.escape(text_of(chr(10).join(o.get("traceback", []))))}</pre>'
        data = o.get('data', {})
        for mime in ('image/png', 'image/jpeg'):
            if mime in data: return self.figure(base64.b64decode(text_of(data[mime])), mime)
        if 'image/svg+xml' in data:
            return self.figure(text_of(data['image/svg+xml']).encode(), 'image/svg+xml')
        if 'text/html' in data: return f'<div class="output html">{text_of(data["text/html"])}</div>'
        if 'text/markdown' in data: return f'<div class="output markdown">{self.md(text_of(data["text/markdown"]))}</div>'
        if 'text/latex' in data:
            return f'<div class="output math-block">{self.md("$$" + text_of(data["text/latex"]).strip("$ ") + "$$")}</div>'
        if 'text/plain' in data:
            return f'<pre class="output result">{html.escape(text_of(data["text/plain"]).rstrip())}</pre>'
        return ''

    def figure(self, data, mime):
        n = len(self.figures) + 1
        ext = {'image/png': 'png', 'image/jpeg': 'jpg', 'image/svg+xml': 'svg'}[mime]
        name = f'figures/{Path(self.info["file"]).stem}-{n}.{ext}'
        (self.out / name).write_bytes(data)
        w, h = png_size(data) if ext == 'png' else (None, None)
        size = f' width="{w}" height="{h}"' if w else ''
        self.figures.append(dict(src=name, size=size, n=n))
        return (f'<figure class="fig" id="fig-{n}"><img src="{name}"{size} '
                f'alt="Figure {n} of {html.escape(self.info["title"])}"></figure>')

    def api_entry(self, name, c, found):
        md = next((text_of(o['data']['text/markdown']) for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})), '')
        if not md:
            self.problems.append(f'{self.info["file"]}: show_doc({name}) has no output'); return ''
        md = re.sub(r'^---\s*$', '', md, count=1, flags=re.M)
        md = re.sub(r'^\[source\]\([^)]*\)(\{[^}]*\})?\s*$', '', md, flags=re.M)
        md = re.sub(r'^#{2,4} .*$', '', md, count=1, flags=re.M)   # the heading: made below
        is_class = found is not None and found[3] and '.' not in name
        if is_class: md = re.sub(r'```python\ndef ', '```python\nclass ', md, count=1)
        hid = slugify(name)
        self.ids.used.add(hid)
        self.api_names.append(name)
        src = ''
        if found is not None:
            i, node, code, _ = found
            target = node
            for part in name.split('.')[1:]:
                target = next((n for n in getattr(target, 'body', []) if getattr(n, 'name', None) == part), target)
            first = min([target.lineno] + [d.lineno for d in getattr(target, 'decorator_list', [])])
            lines = code.splitlines()[first - 1:target.end_lineno]
            src = (f'<details class="source"><summary>Source</summary>'
                   f'{highlight(textwrap.dedent(chr(10).join(lines)))}</details>')
        kind = 'class' if is_class else ('method' if '.' in name else 'function')
        return (f'<section class="api"><h3 id="{hid}" class="api-name"><a class="anchor" href="#{hid}" aria-hidden="true">#</a>'
                f'<code>{html.escape(name)}</code> <span class="kind">{kind}</span></h3>'
                f'<div class="api-doc">{self.md(md.strip())}</div>{src}</section>')

    def exported_source(self, code, nodes):
        lines = code.splitlines()
        parts = ['\n'.join(lines[n.lineno - 1:n.end_lineno]) for n in nodes]
        names = []
        for n in nodes:
            for t in getattr(n, 'targets', [getattr(n, 'target', None)]):
                if isinstance(t, ast.Name): names.append(t.id)
                elif isinstance(t, ast.Tuple): names.extend(e.id for e in t.elts if isinstance(e, ast.Name))
        label = ', '.join(names[:6]) + (', ...' if len(names) > 6 else '') if names else 'module code'
        return (f'<details class="source exported"><summary>Exported source: <code>{html.escape(label)}</code></summary>'
                f'{highlight(chr(10).join(parts))}</details>')

    # --- the first screen
    def with_lead_figure(self, body):
        "The page's first figure, copied after the first paragraph, when anything but prose comes before it."
        html_body = [f for _, f in body]
        if not self.figures: return '\n'.join(html_body)
        first_fig = next(k for k, f in enumerate(html_body) if 'id="fig-1"' in f)
        before = [kind for kind, _ in body[:first_fig]]
        if all(k == 'markdown' for k in before) and not any('<h2' in f for f in html_body[:first_fig]): return '\n'.join(html_body)
        fig = self.figures[0]
        section = None
        for f in html_body[:first_fig + 1]:
            for m in re.finditer(r'<h([23]) id="([^"]+)">(.*?)</h\1>', f): section = (m.group(2), _TAG.sub('', m.group(3)).lstrip('#'))
        where = f' in <a href="#{section[0]}">{section[1]}</a>' if section else ''
        lead = (f'<figure class="lead"><a href="#fig-1" title="Go to this figure on the page">'
                f'<img src="{fig["src"]}"{fig["size"]} alt="First figure of {html.escape(self.info["title"])}"></a>'
                f'<figcaption>The first figure on this page, made{where} below '
                f'(<a href="#fig-1">go to it</a>).</figcaption></figure>')
        # after the first paragraph of the opening prose, or at the top when the page opens otherwise
        opening = re.split(r'<h[23] ', html_body[0])[0] if body and body[0][0] == 'markdown' else ''
        if '</p>' in opening:
            head, tail = html_body[0].split('</p>', 1)
            html_body[0] = head + '</p>' + '</div>' + lead + '<div class="prose">' + tail
        else:
            html_body.insert(0, lead)
        return '\n'.join(html_body)


def page_html(site, info, body):
    "The whole page: top bar with search, sidebar with every page, content, previous/next."
    k = next(i for i, p in enumerate(site.pages) if p['file'] == info['file'])
    items = []
    for p in site.pages:
        num = f'<span class="num">{p["num"]}</span>' if p['num'] else ''
        if p['file'] == info['file']:
            secs = ''.join(f'<li><a href="#{i}">{t}</a></li>' for i, t in info['sections'])
            items.append(f'<li class="current"><a href="{p["file"]}" aria-current="page">{num}{p["title_html"]}</a>'
                         + (f'<ol class="sections">{secs}</ol>' if secs else '') + '</li>')
        else:
            items.append(f'<li><a href="{p["file"]}">{num}{p["title_html"]}</a></li>')
    prev = site.pages[k - 1] if k > 0 else None
    nxt = site.pages[k + 1] if k + 1 < len(site.pages) else None
    pager = ''.join([
        f'<a class="prev" rel="prev" href="{prev["file"]}"><span>Previous</span>{prev["title_html"]}</a>' if prev else '<span></span>',
        f'<a class="next" rel="next" href="{nxt["file"]}"><span>Next</span>{nxt["title_html"]}</a>' if nxt else '<span></span>'])
    desc = f'<p class="description">{info["description_html"]}</p>' if info['description_html'] else ''
    return f'''<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(info["title"]) + (" – " + SITE if info["title"] != SITE else "")}</title>
<meta name="description" content="{html.escape(info["description"])}">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/site.css">
<link rel="stylesheet" href="assets/pygments.css">
<script src="assets/search-index.js" defer></script>
<script src="assets/site.js" defer></script>
</head>
<body>
<header class="topbar">
<button class="menu" type="button" aria-label="Show the pages" aria-controls="sidebar">&#9776;</button>
<a class="brand" href="index.html">{SITE}</a>
<div class="search" role="search"><input id="search" type="search" placeholder="Search the docs" autocomplete="off" aria-label="Search the docs">
<ol id="search-results" hidden></ol></div>
</header>
<div class="layout">
<nav class="sidebar" id="sidebar" aria-label="Pages"><ol>{"".join(items)}</ol></nav>
<main id="content">
<header class="page-head"><h1>{info["title_html"]}</h1>{desc}</header>
{body}
<nav class="pager" aria-label="Previous and next page">{pager}</nav>
<footer>Built offline by <code>scripts/build_docs.py</code> from nbdev's processed notebooks; the official site is built by <code>nbdev_docs</code> with quarto.</footer>
</main>
</div>
</body>
</html>
'''


def contents_section(site, ids):
    "The index's list of every other page, in the sidebar's order, with its summary."
    hid = ids.new('The notebooks, stage by stage')
    rows = ''.join(f'<li><span class="num">{p["num"]}</span><a href="{p["file"]}">{p["title_html"]}</a> <span class="nb">{p["nb"]}</span>'
                   + (f'<br><span class="summary">{p["description_html"]}</span>' if p['description_html'] else '') + '</li>'
                   for p in site.pages if p['file'] != 'index.html')
    return (f'<div class="prose contents"><h2 id="{hid}"><a class="anchor" href="#{hid}" aria-hidden="true">#</a>'
            f'The notebooks, stage by stage</h2><ul class="stages">{rows}</ul></div>')


def inline_md(md, text):
    "Markdown of one line (a title or description) as inline HTML."
    out = md(text).strip()
    return re.sub(r'^<p>(.*)</p>$', r'\1', out, flags=re.S)


def search_entries(info, body):
    "Search records: one per heading (page top, sections, API entries) with the text under it."
    entries, current = [], dict(page=info['file'], title=info['title'], section='', anchor='', text=[])
    body = re.sub(r'<span class="kind">.*?</span>|<a class="anchor"[^>]*>#</a>', '', body)
    skip = r'<pre class="output[^"]*">.*?</pre>|<div class="cell-code">.*?</div>|<details.*?</details>|<div class="output html">.*?</div>|<math.*?</math>|<figure class="lead">.*?</figure>'
    for m in re.finditer(rf'<h([1-4]) id="([^"]+)"[^>]*>(.*?)</h\1>|{skip}|<[^>]+>|([^<]+)', body, re.S):
        if m.group(2):
            entries.append(current)
            current = dict(page=info['file'], title=info['title'], section=html.unescape(_TAG.sub('', m.group(3))).strip(),
                           anchor=m.group(2), text=[])
        elif m.group(4):
            current['text'].append(html.unescape(m.group(4)))
    entries.append(current)
    out = []
    for e in entries:
        text = ' '.join(' '.join(e['text']).split())
        if e['section'] or text: out.append(dict(p=e['page'], t=e['title'], s=e['section'], a=e['anchor'], x=text[:1500]))
    return out


def check_links(pages_html):
    "Internal links whose page or anchor does not exist."
    ids = {f: set(re.findall(r'\sid="([^"]+)"', h)) for f, h in pages_html.items()}
    bad = []
    for f, h in pages_html.items():
        for url in re.findall(r'<a [^>]*href="([^"]+)"', h):
            if re.match(r'^[a-z]+:', url) or url.startswith('//'): continue
            page, _, anchor = html.unescape(url).partition('#')
            page = page or f
            if page not in ids: bad.append(f'{f}: link to missing page {url}')
            elif anchor and anchor not in ids[page]: bad.append(f'{f}: link to missing anchor {url}')
    return bad


def fix_api_links(pages_html):
    "Links nbdev made to names without an entry (private helpers, methods): to the class, else plain code."
    ids = {f: set(re.findall(r'\sid="([^"]+)"', h)) for f, h in pages_html.items()}
    dropped = []
    def fix(m):
        page, anchor, text = m.group(1), m.group(2), m.group(3)
        if page in ids and anchor in ids[page]: return m.group(0)
        if page in ids and '.' in anchor and anchor.rsplit('.', 1)[0] in ids[page]:
            return f'<a href="{page}#{anchor.rsplit(".", 1)[0]}">{text}</a>'
        dropped.append(f'{page}#{anchor}')
        return text
    out = {f: re.sub(r'<a href="([\w.-]+\.html)#([^"]+)">(<code>.*?</code>)</a>', fix, h) for f, h in pages_html.items()}
    return out, dropped


# ------------------------------------------------------------------------------------------------
# 3. checks on the notebooks and on the pages
# ------------------------------------------------------------------------------------------------

def is_image(output):
    return any(m in output.get('data', {}) for m in ('image/png', 'image/jpeg', 'image/svg+xml'))


def figures_missing(nb):
    "Cells of a raw notebook that draw a figure (plt.show(), suptitle) but carry no image: run with a non-inline backend."
    missing = []
    for k, cell in enumerate(nb['cells']):
        if cell['cell_type'] != 'code' or not re.search(r'plt\.show\(\)|\.suptitle\(', cell['source']): continue
        if re.search(r'^\s*#\s*\|\s*(export|hide)', cell['source'], re.M): continue  # definitions and hidden cells
        outputs = cell.get('outputs', [])
        images = sum(is_image(o) for o in outputs)
        skipped = any(o.get('output_type') == 'stream' and text_of(o.get('text', '')).lstrip().startswith('no ') for o in outputs)
        if not images and not skipped: missing.append(k)  # a cell that drew nothing says why, with a line 'no ...'
    return missing


def n_figures(proc):
    "Image outputs in the cells the processed notebook keeps."
    return sum(is_image(o) for c in proc['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', []))


def public_definitions(raw):
    "Names of the exported public functions and classes of a notebook (what must have an API entry)."
    names = []
    for c in raw['cells']:
        d = directives(c['source']) if c['cell_type'] == 'code' else {}
        if 'export' not in d or 'hide' in d: continue
        try: tree = ast.parse(code_of(c['source']))
        except SyntaxError: continue
        names += [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and not n.name.startswith('_')]
    return names


# ------------------------------------------------------------------------------------------------

def build(out=OUT, quiet=False):
    "Process, render and check; returns (pages, problems)."
    import nbformat, yaml
    from nbdev.config import get_config
    t0 = time.perf_counter()
    say = (lambda *a: None) if quiet else print
    os.chdir(root)
    order = sidebar_order()
    extra = sorted(set(NBS.glob('*.ipynb')) - set(order))
    if extra: order += extra
    fallbacks = process_notebooks(order)
    t_proc = time.perf_counter() - t0

    if out.exists(): shutil.rmtree(out)
    (out / 'figures').mkdir(parents=True)
    (out / 'assets').mkdir()
    cfg = get_config()
    site = Site([], cfg.doc_host + cfg.doc_baseurl)
    raws, procs = {}, {}
    for path in order:
        raws[path.name] = nbformat.read(path, as_version=4)
        procs[path.name] = nbformat.read(PROC / path.name, as_version=4)
        fm = procs[path.name].cells[0]
        meta = yaml.safe_load(fm.source.strip().strip('-')) if fm.cell_type == 'raw' else {}
        num = re.match(r'^(\d+[a-z]?)_', path.name)
        site.pages.append(dict(nb=path.name, file=meta.get('output-file', path.stem + '.html'),
                               title=meta.get('title', path.stem), description=meta.get('description', '') or '',
                               num=num.group(1) if num else ''))
    site.by_nb = {p['nb']: p['file'] for p in site.pages}
    head_md = make_markdown(site, Ids(), [])
    for p in site.pages:
        p['title_html'] = inline_md(head_md, p['title'])
        p['description_html'] = inline_md(head_md, p['description']) if p['description'] else ''
        p['title'] = html.unescape(_TAG.sub('', p['title_html']))
        p['description'] = html.unescape(_TAG.sub('', p['description_html']))

    problems, search, rendered = [], [], {}
    for p in site.pages:
        page = Page(site, p, raws[p['nb']], procs[p['nb']], out)
        body = page.render()
        if p['file'] == 'index.html': body += contents_section(site, page.ids)
        p['sections'] = [(i, _TAG.sub('', t).lstrip('#')) for i, t in re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', body)]
        search += search_entries(p, body)
        problems += page.problems + [f'{p["file"]}: math {e}' for e in page.math_errors]
        want, got = n_figures(procs[p['nb']]), len(page.figures)
        if got < want: problems.append(f'{p["file"]}: {got} figures rendered of {want} in the notebook')
        missing = figures_missing(raws[p['nb']])
        if missing: problems.append(f'{p["nb"]}: cells {missing} draw a figure but have none saved '
                                    '(execute the notebook with the inline backend, not MPLBACKEND=Agg)')
        documented = set(page.api_names)
        for name in public_definitions(raws[p['nb']]):
            if name not in documented: problems.append(f'{p["file"]}: exported {name} has no API entry')
        p['n_figures'] = got
        rendered[p['file']] = page_html(site, p, body)

    rendered, dropped = fix_api_links(rendered)
    problems += check_links(rendered)
    for f, h in rendered.items():
        if re.search(r'In&nbsp;\[|\bIn \[[ \d]*\]:', h): problems.append(f'{f}: shows an input prompt')
        for code in re.findall(r'<div class="cell-code">(.*?)</div></div>', h, re.S):
            if is_import_only(html.unescape(_TAG.sub('', code))): problems.append(f'{f}: shows an import-only cell')
        (out / f).write_text(h, encoding='utf-8')

    from pygments.formatters import HtmlFormatter
    (out / 'assets' / 'pygments.css').write_text(HtmlFormatter(style='friendly').get_style_defs('.highlight'))
    for a in ASSETS.iterdir(): shutil.copy2(a, out / 'assets' / a.name)
    (out / 'assets' / 'search-index.js').write_text(
        '/* Built by scripts/build_docs.py: one record per heading. */\nwindow.SEARCH_INDEX = '
        + json.dumps(search, ensure_ascii=False, separators=(',', ':')) + ';\n', encoding='utf-8')
    (out / 'pages.json').write_text(json.dumps([dict(file=p['file'], notebook=p['nb'], title=p['title'], figures=p['n_figures'])
                                                for p in site.pages], indent=1))
    dt = time.perf_counter() - t0
    for p in site.pages:
        say(f'{p["file"]:24s} {(out / p["file"]).stat().st_size / 1e3:7.0f} kB  {p["n_figures"]:3d} figures  {p["title"]}')
    for note in fallbacks: say('note:', note)
    if dropped: say(f'note: {len(dropped)} links to names without an API entry left as code: {", ".join(sorted(set(dropped))[:8])}...')
    say(f'docs site: {len(site.pages)} pages, {len(search)} search records in {out.relative_to(root) if out.is_relative_to(root) else out}/ '
        f'({t_proc:.0f} s processing, {dt:.0f} s in all)')
    return site.pages, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--open', action='store_true', help='open _docs/index.html in the default browser after building')
    args = ap.parse_args()
    pages, problems = build()
    if problems: sys.exit('docs build failed:\n' + '\n'.join(problems))
    if args.open:
        import webbrowser
        webbrowser.open((OUT / 'index.html').as_uri())


if __name__ == '__main__': main()
