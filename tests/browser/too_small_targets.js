// What the page offers a finger that is smaller than `smallest` CSS px (test_touch_targets.py).
(smallest) => {
  const found = [];
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary');
  for (const element of controls) {
    const style = getComputedStyle(element);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (element.closest('.visually-hidden, [hidden], .skip-link, details:not([open]) > :not(summary)')) continue;
    if (element.matches('a') && style.display === 'inline') continue;  // a link in running text
    let box = element.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    if (element.matches('input[type=checkbox], input[type=radio]')) {
      const label = element.closest('label') || (element.id && document.querySelector(`label[for="${element.id}"]`));
      if (label) box = label.getBoundingClientRect();
      else if (element.closest('.tile, .size-tile')) box = element.closest('.tile, .size-tile').getBoundingClientRect();
    }
    if (box.width < smallest - 0.5 || box.height < smallest - 0.5) {
      const name = (element.getAttribute('aria-label') || element.textContent || element.value || element.name || '').trim().slice(0, 30);
      found.push(`${element.tagName.toLowerCase()}${element.className ? '.' + [...element.classList].join('.') : ''} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return [...new Set(found)];
}
