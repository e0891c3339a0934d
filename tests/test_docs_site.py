"""The documentation site in `_docs/`, as a reader meets it: every page opened in headless Chromium.

`python scripts/build_docs.py` builds the site (`scripts/test_all.sh` does, before pytest). The browser
tests need Chromium and its driver (Debian: `apt-get install chromium chromium-driver`; `scripts/test_all.sh`
installs them when it runs as root, as CI does) and Selenium (the dev extra). They skip, saying why,
when the site or the browser is missing; with `SNIASCORE_REQUIRE_BROWSER=1` (set by `scripts/test_all.sh`
once Chromium is there) a missing browser fails instead. One screenshot per page, of the first
screen at 1280x800, goes to `_docs/screenshots/`.
"""
import ast, html, json, os, re, shutil, time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / '_docs'
NBS = ROOT / 'nbs'
WIDTH, HEIGHT = 1280, 800
FIRST_SCREEN = ['classification.html', 'redshifts.html', 'selection.html']  # pages whose story starts with a figure


# ------------------------------------------------------------------------------------------------
# what the site must hold, from the notebooks (independently of the builder)
# ------------------------------------------------------------------------------------------------

def page_file(nb):
    "The page of a notebook: nbdev's rule (leading number and underscore dropped, .html)."
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb.name.lower()).rsplit('.', 1)[0] + '.html'


def expected_pages():
    "[(page, title)] in the sidebar's order: index first, then the notebooks by name."
    nbs = sorted(NBS.glob('*.ipynb'), key=lambda p: ('0' if p.name == 'index.ipynb' else '1') + p.name)
    out = []
    for nb in nbs:
        cells = json.loads(nb.read_text(encoding='utf-8'))['cells']
        first = next(''.join(c['source']) for c in cells if c['cell_type'] == 'markdown' and ''.join(c['source']).strip())
        title = re.match(r'^#\s+(.+)$', first.strip().splitlines()[0]).group(1).replace('`', '').strip()
        out.append((page_file(nb), title))
    return out


def exported_names():
    "{page: [(name, anchor)]} for every public function and class of the package, from nbdev's index of it."
    from sniascore._modidx import d
    out = {}
    for module, syms in d['syms'].items():
        for qual, (url, _) in syms.items():
            name = qual[len(module) + 1:]
            if '.' in name or name.startswith('_'): continue
            page, _, anchor = url.partition('#')
            out.setdefault(page, []).append((name, anchor))
    return out


@pytest.fixture(scope='module')
def site():
    if not (SITE / 'index.html').exists():
        pytest.skip('the docs site is not built: run python scripts/build_docs.py')
    return SITE


# ------------------------------------------------------------------------------------------------
# checks without a browser (the built HTML)
# ------------------------------------------------------------------------------------------------

class Ids(HTMLParser):
    "Element ids of a page, and the text of its code cells."
    def __init__(self):
        super().__init__(); self.ids, self.code, self._in = set(), [], 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if tag == 'a' and 'name' in a: self.ids.add(a['name'])
        if tag == 'div' and a.get('class') == 'cell-code': self._in = 1; self.code.append('')
        elif self._in and tag == 'div': self._in += 1
    def handle_endtag(self, tag):
        if self._in and tag == 'div': self._in -= 1
    def handle_data(self, data):
        if self._in: self.code[-1] += data


def parse(path):
    p = Ids(); p.feed(path.read_text(encoding='utf-8')); return p


def test_every_notebook_has_a_page(site):
    missing = [f for f, _ in expected_pages() if not (site / f).exists()]
    assert not missing, f'pages missing from {site}: {missing}'


def cell_problems(path):
    "Prompts (`In [ ]:`), empty or import-only code cells on a page."
    bad, text = [], path.read_text(encoding='utf-8')
    if re.search(r'(?<![A-Za-z_])(In|Out)\s?\[[\s\d]*\]:', html.unescape(re.sub(r'<[^>]+>', '', text))):
        bad.append(f'{path.name}: shows an In [ ]:/Out[ ]: prompt')
    for code in parse(path).code:
        try: tree = ast.parse(code)
        except SyntaxError: continue
        if not tree.body: bad.append(f'{path.name}: shows an empty code cell')
        elif all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in tree.body):
            bad.append(f'{path.name}: shows an import-only cell: {code.strip()[:60]}')
    return bad


def api_entries(text):
    "{name: (signature and docstring as text, docstring alone)} for the API entries of a page."
    out = {}
    for sec in re.findall(r'<section class="api">(.*?)</section>', text, re.S):
        name = re.search(r'<h3[^>]*>.*?<code>(.*?)</code>', sec, re.S)
        doc = re.search(r'<div class="api-doc">(.*)</div>', re.sub(r'<details.*?</details>', '', sec, flags=re.S), re.S)
        if not name or not doc: continue
        plain = lambda h: html.unescape(re.sub(r'<[^>]+>', '', h))
        out[html.unescape(name.group(1))] = (plain(doc.group(1)), plain(re.sub(r'<pre.*?</pre>', '', doc.group(1), flags=re.S)).strip())
    return out


def api_problems(path, defs):
    "Exported definitions [(name, anchor)] without an entry at nbdev's anchor, a signature and a docstring."
    bad, text = [], path.read_text(encoding='utf-8')
    entries = api_entries(text)
    for name, anchor in defs:
        if name not in entries: bad.append(f'{path.name}: no entry for {name}'); continue
        if f'<h3 id="{anchor}" class="api-name">' not in text: bad.append(f'{path.name}: {name} is not at #{anchor}, where nbdev links to it')
        full, doc = entries[name]
        if not re.search(rf'\b(def|class) {re.escape(name)}\(', full): bad.append(f'{path.name}: {name} has no signature')
        if not doc: bad.append(f'{path.name}: {name} has no docstring')
    return bad


def test_no_prompts_and_no_import_cells(site):
    bad = [b for f, _ in expected_pages() for b in cell_problems(site / f)]
    assert not bad, '\n'.join(bad)


def test_every_exported_definition_has_signature_and_docstring(site):
    names = exported_names()
    assert sum(map(len, names.values())) > 100, 'nbdev index of the package looks empty'
    bad = [b for f, defs in names.items() for b in api_problems(site / f, defs)]
    assert not bad, '\n'.join(bad)


BAD_CONTENT = """<main><div class="cell"><div class="cell-code"><div class="highlight"><pre>import numpy as np
from pathlib import Path</pre></div></div></div>
<div class="cell"><div class="cell-code"><div class="highlight"><pre>x = 1</pre></div></div><pre class="output">In [3]: x</pre></div>
<section class="api"><h3 id="f" class="api-name"><code>f</code></h3><div class="api-doc"><div class="highlight"><pre>def f(
    a
):</pre></div></div></section>
<section class="api"><h3 id="g-1" class="api-name"><code>g</code></h3><div class="api-doc"><p>Docs, no signature.</p></div></section>
</main>"""


def test_content_checks_catch_a_bad_page(tmp_path):
    (tmp_path / 'p.html').write_text(BAD_CONTENT)
    bad = cell_problems(tmp_path / 'p.html')
    assert any('prompt' in b for b in bad) and any('import-only' in b for b in bad), bad
    bad = api_problems(tmp_path / 'p.html', [('f', 'f'), ('g', 'g'), ('h', 'h')])
    assert bad == ['p.html: f has no docstring', 'p.html: g is not at #g, where nbdev links to it',
                   'p.html: g has no signature', 'p.html: no entry for h'], bad


def test_math_is_rendered_offline(site):
    text = (site / 'preprocessing.html').read_text(encoding='utf-8')
    assert '<math' in text and '$(1 -' not in text
    for f in site.glob('*.html'):
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', f.read_text(encoding='utf-8')), f'{f.name} loads from the network'


# ------------------------------------------------------------------------------------------------
# the browser
# ------------------------------------------------------------------------------------------------

def find_chromium():
    "(browser, driver) executables, or None."
    browser = next((shutil.which(b) for b in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(b)), None)
    driver = shutil.which('chromedriver') or next((p for p in ('/usr/lib/chromium/chromedriver',) if Path(p).exists()), None)
    return (browser, driver) if browser and driver else None


def start_browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None, 'Selenium is not installed (pip install -e ".[dev]")'
    found = find_chromium()
    if not found: return None, 'Chromium or chromedriver not found (apt-get install chromium chromium-driver)'
    opts = webdriver.ChromeOptions()
    opts.binary_location = found[0]
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars',
              f'--window-size={WIDTH},{HEIGHT}', '--disable-extensions', '--no-first-run'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service(found[1]), options=opts)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', dict(width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False))
    driver.set_page_load_timeout(60)
    return driver, None


@pytest.fixture(scope='module')
def browser():
    driver, why = start_browser()
    if driver is None:
        if os.environ.get('SNIASCORE_REQUIRE_BROWSER') == '1': pytest.fail(why)
        pytest.skip(why)
    yield driver
    driver.quit()


PAGE_STATE = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
const settle = () => Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
Promise.race([settle(), new Promise(r => setTimeout(r, 10000))]).then(() => done({
  title: document.title,
  images: imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
  ids: Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.getAttribute('name')),
  sidebar: Array.from(document.querySelectorAll('nav.sidebar > ol > li > a')).map(a => a.getAttribute('href')),
  pager: Array.from(document.querySelectorAll('nav.pager a')).map(a => a.getAttribute('href')),
}));
"""


def visit(driver, path, screenshot=None):
    "Open a page; its state (title, images, links, ids, sidebar) and its SEVERE console entries."
    driver.get_log('browser')                      # drop entries of the previous page
    driver.get(path.as_uri())
    state = driver.execute_async_script(PAGE_STATE)
    state['errors'] = [e['message'] for e in driver.get_log('browser') if e['level'] == 'SEVERE']
    if screenshot: screenshot.parent.mkdir(parents=True, exist_ok=True); driver.save_screenshot(str(screenshot))
    return state


def page_problems(path, state, title=None, pages=None):
    "What is wrong with one visited page, except links (which need every page's ids)."
    bad = [f'{path.name}: console error: {m}' for m in state['errors']]
    if title is not None and state['title'] != title: bad.append(f'{path.name}: title {state["title"]!r}, expected {title!r}')
    bad += [f'{path.name}: image {src} not loaded' for src, complete, width in state['images'] if not complete or width == 0]
    if pages is not None and state['sidebar'] != pages:
        bad.append(f'{path.name}: sidebar lists {state["sidebar"]}, expected {pages}')
    return bad


def link_problems(site_dir, states):
    "Internal links whose file does not exist, or whose #anchor is not an id of the target page."
    ids = {name: set(s['ids']) for name, s in states.items()}
    bad = []
    for name, s in states.items():
        for href in s['links']:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc: continue                       # external: not ours to check
            target = (site_dir / name).parent / unquote(parts.path) if parts.path else site_dir / name
            target = target.resolve()
            if not target.is_file():
                bad.append(f'{name}: link {href} -> no such file'); continue
            if parts.fragment:
                rel = target.relative_to(site_dir.resolve()).as_posix()
                known = ids.get(rel) if rel in ids else (parse(target).ids if target.suffix == '.html' else set())
                if unquote(parts.fragment) not in known: bad.append(f'{name}: link {href} -> no such anchor')
    return bad


def test_every_page_in_chromium(site, browser):
    t0 = time.perf_counter()
    pages = expected_pages()
    files = [f for f, _ in pages]
    states, bad = {}, []
    for k, (f, title) in enumerate(pages):
        states[f] = visit(browser, site / f, screenshot=site / 'screenshots' / f.replace('.html', '.png'))
        bad += page_problems(site / f, states[f], title=title if title == 'sniascore' else f'{title} – sniascore', pages=files)
        want_pager = [p for p in (files[k - 1] if k else None, files[k + 1] if k + 1 < len(files) else None) if p]
        if states[f]['pager'] != want_pager: bad.append(f'{f}: previous/next {states[f]["pager"]}, expected {want_pager}')
    bad += link_problems(site, states)
    n_links = sum(len(s['links']) for s in states.values())
    n_images = sum(len(s['images']) for s in states.values())
    print(f'{len(states)} pages, {n_images} images, {n_links} links checked in {time.perf_counter() - t0:.1f} s')
    assert not bad, '\n'.join(bad)


FIRST_SCREEN_JS = """
const main = document.querySelector('main');
const head = main.querySelector('.page-head').getBoundingClientRect();
const first = Array.from(main.children).find(e => !e.matches('.page-head'));
const para = main.querySelector('.prose p');
const img = main.querySelector('figure img');
const r = e => e ? e.getBoundingClientRect().toJSON() : null;
return {scroll: window.scrollY, head: head.toJSON(), first: first ? first.className : null,
        para: r(para), img: r(img), img_width: img ? img.naturalWidth : 0,
        code_before: Array.from(main.querySelectorAll('.cell-code, section.api')).some(e => img && e.getBoundingClientRect().top < r(img).top)};
"""


@pytest.mark.parametrize('page', FIRST_SCREEN)
def test_page_opens_with_prose_and_first_figure(site, browser, page):
    "The first screen (1280x800) shows the summary, prose and the page's first figure, whole; no code before it."
    browser.get((site / page).as_uri())
    browser.execute_async_script("const d = arguments[0]; const i = document.querySelector('main figure img');"
                                 "if (!i || i.complete) d(); else { i.onload = i.onerror = () => d(); }")
    s = browser.execute_script(FIRST_SCREEN_JS)
    assert s['scroll'] == 0
    assert s['first'] == 'prose', f'{page} opens with {s["first"]}, not prose'
    assert s['para'] and s['para']['top'] < s['img']['top'], f'{page}: no paragraph above the first figure'
    assert s['img_width'] > 0, f'{page}: first figure not loaded'
    assert s['img']['bottom'] <= HEIGHT, f'{page}: first figure ends at {s["img"]["bottom"]:.0f} px, below the first screen'
    assert not s['code_before'], f'{page}: code or an API entry comes before the first figure'


def test_search_finds_an_exported_function(site, browser):
    from selenium.webdriver.common.by import By
    browser.get((site / 'index.html').as_uri())
    box = browser.find_element(By.ID, 'search')
    box.send_keys('read_snid_output')
    hits = [a.get_attribute('href') for a in browser.find_elements(By.CSS_SELECTOR, '#search-results a')]
    assert hits and hits[0].endswith('baselines.html#read_snid_output'), hits[:3]


# ------------------------------------------------------------------------------------------------
# the checks can fail: a tiny broken site
# ------------------------------------------------------------------------------------------------

BROKEN = """<!doctype html><html><head><title>{title}</title><link rel="icon" href="data:,"></head><body>
<nav class="sidebar"><ol><li><a href="a.html">A</a></li></ol></nav>
<main><h2 id="here">Here</h2>
<img src="missing.png" alt="gone">
<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==" alt="ok">
<a href="#here">fine</a> <a href="b.html#here">fine too</a> <a href="nowhere.html">broken page</a>
<a href="#not-here">broken anchor</a> <a href="b.html#not-there">broken anchor elsewhere</a>
<a href="https://example.org/">external</a>
{script}
</main></body></html>"""


def test_checks_catch_a_broken_site(browser, tmp_path):
    (tmp_path / 'a.html').write_text(BROKEN.format(title='A – sniascore', script='<script>throw new Error("boom")</script>'))
    (tmp_path / 'b.html').write_text(BROKEN.format(title='B', script=''))
    states = {f: visit(browser, tmp_path / f) for f in ('a.html', 'b.html')}
    bad_a = page_problems(tmp_path / 'a.html', states['a.html'], title='A – sniascore', pages=['a.html', 'b.html'])
    bad_b = page_problems(tmp_path / 'b.html', states['b.html'], title='B – sniascore', pages=['a.html'])
    links = link_problems(tmp_path, states)
    assert any('console error' in b and 'boom' in b for b in bad_a), bad_a
    assert any('missing.png not loaded' in b for b in bad_a), bad_a
    assert not any('data:image' in b for b in bad_a), 'a loaded image reported as broken'
    assert any('sidebar lists' in b for b in bad_a), bad_a
    assert any('title' in b for b in bad_b) and not any('boom' in b for b in bad_b), bad_b
    assert 'a.html: link nowhere.html -> no such file' in links, links
    assert 'a.html: link #not-here -> no such anchor' in links, links
    assert 'a.html: link b.html#not-there -> no such anchor' in links, links
    assert not any('#here ' in b or 'example.org' in b for b in links), links
