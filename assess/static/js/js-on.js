// Marks the page as running scripts before it is drawn (html.js): without them, what
// Bootstrap's collapse would fold (the menu on a phone, the dimensions beside the answers)
// stays open, and the buttons that would unfold it are hidden (assess.css).
document.documentElement.classList.add("js");
