/* The offline documentation site (scripts/build_docs.py): search over window.SEARCH_INDEX
   (assets/search-index.js, built with the pages) and the sidebar drawer on narrow screens. */
(function () {
  'use strict';

  var menu = document.querySelector('.topbar .menu');
  if (menu) menu.addEventListener('click', function () { document.body.classList.toggle('show-sidebar'); });

  // keep the current page in view in a long sidebar (without moving the page itself)
  var sidebar = document.querySelector('.sidebar'), current = document.querySelector('.sidebar li.current');
  if (sidebar && current && current.offsetTop + current.offsetHeight > sidebar.clientHeight)
    sidebar.scrollTop = current.offsetTop - sidebar.clientHeight / 4;

  var input = document.getElementById('search');
  var list = document.getElementById('search-results');
  var index = window.SEARCH_INDEX || [];
  if (!input || !list) return;

  function words(s) { return s.toLowerCase().split(/[^\w.]+/).filter(function (w) { return w.length > 0; }); }
  var records = index.map(function (r) {
    return { r: r, title: r.t.toLowerCase(), section: r.s.toLowerCase(), text: r.x.toLowerCase() };
  });

  function score(rec, terms) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i], s = 0;
      if (rec.section === t) s += 12;
      if (rec.section.indexOf(t) >= 0) s += 6;
      if (rec.title.indexOf(t) >= 0) s += 3;
      if (rec.text.indexOf(t) >= 0) s += 1 + Math.min(3, rec.text.split(t).length - 2);
      if (s === 0) return 0;          // every term must appear
      total += s;
    }
    return total;
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; });
  }

  function snippet(text, terms) {
    var low = text.toLowerCase(), at = -1;
    for (var i = 0; i < terms.length && at < 0; i++) at = low.indexOf(terms[i]);
    var start = Math.max(0, at - 60), piece = text.slice(start, start + 180);
    var out = escapeHtml(piece);
    terms.forEach(function (t) {
      out = out.replace(new RegExp('(' + t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + ')', 'ig'), '<mark>$1</mark>');
    });
    return (start > 0 ? '… ' : '') + out + (start + 180 < text.length ? ' …' : '');
  }

  var active = -1;
  function render() {
    var terms = words(input.value);
    list.innerHTML = '';
    active = -1;
    if (!terms.length) { list.hidden = true; return; }
    var hits = [];
    records.forEach(function (rec) { var s = score(rec, terms); if (s > 0) hits.push([s, rec.r]); });
    hits.sort(function (a, b) { return b[0] - a[0]; });
    hits.slice(0, 12).forEach(function (h) {
      var r = h[1], li = document.createElement('li'), a = document.createElement('a');
      a.href = r.p + (r.a ? '#' + r.a : '');
      a.innerHTML = '<span class="where">' + escapeHtml(r.t) + '</span><span class="what">' + escapeHtml(r.s || r.t) +
        '</span><span class="snippet">' + snippet(r.x, terms) + '</span>';
      li.appendChild(a);
      list.appendChild(li);
    });
    if (!hits.length) list.innerHTML = '<li class="none">No match</li>';
    list.hidden = false;
  }

  function move(step) {
    var links = list.querySelectorAll('a');
    if (!links.length) return;
    if (active >= 0) links[active].classList.remove('active');
    active = (active + step + links.length) % links.length;
    links[active].classList.add('active');
    links[active].scrollIntoView({ block: 'nearest' });
  }

  input.addEventListener('input', render);
  input.addEventListener('focus', function () { if (input.value) render(); });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowDown') { move(1); e.preventDefault(); }
    else if (e.key === 'ArrowUp') { move(-1); e.preventDefault(); }
    else if (e.key === 'Escape') { list.hidden = true; input.blur(); }
    else if (e.key === 'Enter') {
      var links = list.querySelectorAll('a');
      if (links.length) window.location.href = links[Math.max(active, 0)].href;
    }
  });
  document.addEventListener('click', function (e) { if (!e.target.closest('.search')) list.hidden = true; });
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== input) { input.focus(); e.preventDefault(); }
  });
})();
