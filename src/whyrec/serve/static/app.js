// whyrec web page: plain JavaScript, no external resources (works offline). Every URL it asks is
// relative to the page ("api/bundles", not "/api/bundles"), so that it also works where a reverse
// proxy serves whyrec under a path of its own (https://lab.example.org/whyrec/).
"use strict";

const $ = (id) => document.getElementById(id);
// historyShown: a history longer than this (a MovieLens user's thousands of ratings) shows its first ones, then
// a chip for all
const state = { bundle: null, bundles: [], user: null, request: 0, pastClick: 0, search: 0, itemSearch: 0,
                rated: new Map(), past: [], item: null, historyShown: 60 };

// fetch, and while the server answers 503 (busy: whyrec serve --max-in-flight), wait the
// Retry-After it gives (1 s unless it says) and ask again, at most `tries` times in all
async function politeFetch(url, options = {}, tries = 4) {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, options);
    if (response.status !== 503 || attempt >= tries) return response;
    const seconds = Number(response.headers.get("Retry-After")) || 1;
    await new Promise((resume) => setTimeout(resume, Math.min(seconds, 10) * 1000));
  }
}

async function getJSON(url) {
  const response = await politeFetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// five stars out of the top of the bundle's rating scale (a 1–5 rating of 4 fills four; 8 of 10, four)
function stars(rating, top = 5) {
  const full = Math.min(5, Math.max(0, Math.round((5 * rating) / top)));
  return "★".repeat(full) + "☆".repeat(5 - full);
}

// a rating as the page writes it: "4★" on a 1–5 scale, "8/10" on another
function ratingText(rating, top = 5) {
  return top === 5 ? `${rating}★` : `${rating}/${top}`;
}

// the top of a bundle's rating scale (by default the bundle shown's): what its stars are out of
function scaleTop(bundle = state.bundle) {
  return bundle && bundle.rating_scale ? bundle.rating_scale[1] : 5;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// an explanation as the server joined it for reading, the item features it mentions marked (a word
// is marked when its lower-case form is a feature: the reading form capitalises the first letter)
function highlight(readable, features) {
  if (!readable.trim()) return '<span class="empty">(no words: the decoder ended the explanation at once)</span>';
  const wanted = new Set(features);
  const marked = (w) => (wanted.has(w.toLowerCase()) ? `<mark>${escapeHtml(w)}</mark>` : escapeHtml(w));
  return readable.split(/([^A-Za-z0-9]+)/).map(marked).join("");
}

// after an explanation with as many words as its bundle writes at most: decoding stopped there,
// perhaps mid-sentence
function cutMark(explanation, bundle) {
  if (!explanation.at_word_limit) return "";
  const limit = bundle && bundle.max_words ? `${bundle.max_words} words, ` : "";
  return ` <span class="cut" title="at the system's limit (${limit}its setting max_words): ` +
    `it may have been cut here">…</span>`;
}

// a bundle's tooltip in the menu: its system, its data and, when its run.json says, the command that made it
function bundleTitle(b) {
  const made = b.made_by && b.made_by.command ? `; made by ${b.made_by.command}` +
    (b.made_by.date ? ` on ${b.made_by.date.slice(0, 10)}` : "") : "";
  return `${b.kind}${b.trained_on ? ` trained on ${b.trained_on}` : ""}${made}`;
}

async function loadBundles() {
  state.bundles = await getJSON("api/bundles");
  const about = (b) => `${b.users} users, ${b.items} items${b.aligned.length ? `, aligned by ${b.aligned.join(", ")}` : ""}`;
  $("bundle").innerHTML = state.bundles.map((b) => `<option value="${escapeHtml(b.name)}" ` +
    `title="${escapeHtml(bundleTitle(b))}">${escapeHtml(b.name)} (${escapeHtml(about(b))})</option>`).join("");
  await selectBundle(state.bundles[0].name);
  await openAddress();
}

// what the page shows, in its address (#bundle=…&explainer=…&user=…&item=…, and the decoding, seed,
// fewest words, feature word and bundle compared with when chosen): a link copied from it opens the
// same view, the same explanations (a sampled one with its seed)
function saveAddress() {
  const at = new URLSearchParams();
  if (state.bundle) at.set("bundle", state.bundle.name);
  if ($("explainer").value) {
    const { word, decoding } = chosen();
    at.set("explainer", $("explainer").value);
    if (decoding.method !== "greedy") at.set("decoding", $("decoding").value);
    if (decoding.seed !== undefined) at.set("seed", decoding.seed);
    if (decoding.min_words !== undefined) at.set("min_words", decoding.min_words);
    if (word) at.set("feature_word", word);
  }
  if ($("compare").value) at.set("compare", $("compare").value);
  if (state.user !== null) at.set("user", state.user);
  if (state.item !== null) at.set("item", state.item);
  window.history.replaceState(null, "", `#${at}`);
}

// show what the address names (on load, and when another address is pasted into this tab); a bundle,
// explainer or user it names that is not there is passed over, as a new user is shown as one; an explainer
// may be named by its label too, in any case (explainer=MT-P), as the API takes it
async function openAddress() {
  const at = new URLSearchParams(window.location.hash.slice(1));
  const name = at.get("bundle");
  if (name && name !== state.bundle.name && state.bundles.some((b) => b.name === name)) {
    $("bundle").value = name;
    await selectBundle(name);
  }
  const explainer = (at.get("explainer") || "").trim().toLowerCase();
  const named = [...$("explainer").options].find(
    (o) => explainer && (o.value.toLowerCase() === explainer || o.textContent.toLowerCase() === explainer));
  if (named) $("explainer").value = named.value;
  const decoding = at.get("decoding") || "greedy";
  $("decoding").value = Object.hasOwn(DECODINGS, decoding) ? decoding : "greedy";
  $("seed-choice").hidden = $("decoding").value !== "sample";
  $("seed").value = at.get("seed") || "";
  $("min-words").value = at.get("min_words") || "";
  $("feature-word").value = at.get("feature_word") || "";
  const compare = at.get("compare");
  $("compare").value = compare && [...$("compare").options].some((o) => o.value === compare) ? compare : "";
  const user = at.get("user");
  if (!user) { // an address naming no user, pasted over one that did: none is shown
    if (state.user !== null) clearUser();
    return saveAddress();
  }
  $("user-search").value = user;
  await searchUsers();
  await showUser(user);
  const item = at.get("item");
  if (item && state.user === user) await showPast(item, ratingGiven(item));
}

// no user shown: their history, cards and item card go, and an answer still on its way is dropped
function clearUser() {
  state.user = null;
  state.request++;
  $("status").textContent = "Choose a user to see their recommendations.";
  $("history").innerHTML = $("cards").innerHTML = $("past").innerHTML = "";
  $("history-title").hidden = $("recs-title").hidden = true;
  $("item-choice").hidden = true; // asked about once a user is chosen
  document.querySelectorAll("#users li").forEach((li) => li.classList.remove("active"));
  state.rated = new Map();
  state.past = [];
  state.item = null;
}

async function selectBundle(name) {
  state.bundle = state.bundles.find((b) => b.name === name);
  clearUser(); // another bundle's answer must not stay on screen under this one's name
  const options = state.bundle.explainers.map(
    (e) => `<option value="${escapeHtml(e.id)}">${escapeHtml(e.label)}</option>`);
  if (state.bundle.explainers.length > 1) options.unshift('<option value="all">all, side by side</option>');
  $("explainer").innerHTML = options.join("") || '<option value="">(ratings only)</option>';
  // PETER+ writes about the feature word it is fed: each item's own, or one chosen here
  const words = state.bundle.feature_words || [];
  $("feature-choice").hidden = words.length === 0;
  $("feature-word").value = "";
  $("feature-words").innerHTML = words.map((w) => `<option value="${escapeHtml(w)}"></option>`).join("");
  $("decoding").disabled = state.bundle.explainers.length === 0; // a rating bundle writes no text to decode
  $("seed").disabled = $("decoding").disabled;
  $("min-words").disabled = $("decoding").disabled;
  $("min-words").max = state.bundle.max_words ?? 0;
  // another bundle to set an item's card beside, for the same user (kept when it is still another)
  const others = state.bundles.filter((b) => b.name !== name);
  const kept = others.some((b) => b.name === $("compare").value) ? $("compare").value : "";
  $("compare").innerHTML = ['<option value="">none</option>', ...others.map(
    (b) => `<option value="${escapeHtml(b.name)}">${escapeHtml(b.name)}</option>`)].join("");
  $("compare").value = kept;
  $("compare-choice").hidden = others.length === 0;
  await Promise.all([searchUsers(), searchItems()]);
}

async function searchUsers() {
  const typed = $("user-search").value.trim();
  const search = ++state.search; // typing fast sends several: only the latest answer is shown
  const users = await getJSON(`api/bundles/${encodeURIComponent(state.bundle.name)}/users?query=${encodeURIComponent(typed)}&limit=50`);
  if (search !== state.search) return;
  // no id holds what was typed: the server lists close ids instead (a likely typo)
  const similar = users.length > 0 && users[0].similar;
  const entry = (u) => `<li tabindex="0" role="button" data-user="${escapeHtml(u.user)}"${u.similar ? ' class="similar"' : ""}>` +
    `<span>${escapeHtml(u.user)}</span><span class="count">${u.reviews ?? ""}</span></li>`;
  const rows = users.map(entry);
  if (similar) rows.unshift('<li class="note">no user id holds that; close ones:</li>');
  // what a user the bundle has never seen is shown: its cold-start answer
  if (typed && !users.some((u) => u.user === typed)) {
    rows.push(`<li tabindex="0" role="button" class="new-user" data-user="${escapeHtml(typed)}">` +
      `<span>${escapeHtml(typed)}</span><span class="count">as a new user</span></li>`);
  }
  $("users").innerHTML = rows.join("");
}

// the items whose id or title holds what is typed in the item box, the most rated first (close ids when
// none does); one clicked is explained for the chosen user, as a rated item of their history is
async function searchItems() {
  const typed = $("item-search").value.trim();
  const search = ++state.itemSearch; // only the latest answer is shown
  const items = await getJSON(`api/bundles/${encodeURIComponent(state.bundle.name)}/items?query=${encodeURIComponent(typed)}&limit=50`);
  if (search !== state.itemSearch) return;
  const entry = (i) => `<li tabindex="0" role="button" data-item="${escapeHtml(i.item)}"${i.similar ? ' class="similar"' : ""} ` +
    `title="${escapeHtml(i.title ? `${i.title} (${i.item})` : i.item)}${i.ratings === null ? "" : `: ${i.ratings} rating${i.ratings === 1 ? "" : "s"} in training`}">` +
    `<span>${escapeHtml(i.title || i.item)}</span><span class="count">${i.ratings ?? ""}</span></li>`;
  const rows = items.map(entry);
  if (items.length > 0 && items[0].similar) rows.unshift('<li class="note">no item id or title holds that; close ids:</li>');
  if (typed && items.length === 0) rows.push('<li class="note">no item id or title holds that</li>');
  $("items").innerHTML = rows.join("");
}

// the decodings the page offers, as the API's "decoding" object; sampled anew on each request unless a
// seed is typed (then each pair draws from a stream of its own: the same explanation every time)
const DECODINGS = {
  greedy: { method: "greedy" },
  beam: { method: "beam", beam: 4 },
  sample: { method: "sample", temperature: 0.7, top_p: 0.9 },
};

// the seed typed for sampling, or null (none, or not a whole number from 0)
function typedSeed() {
  const text = $("seed").value.trim();
  return /^\d+$/.test(text) ? Number(text) : null;
}

// the fewest words typed for each explanation, or null (none, 0, or not a whole number); the most
// the bundle's explanations have caps it, as the server would refuse more
function typedMinWords() {
  const text = $("min-words").value.trim();
  if (!/^\d+$/.test(text) || Number(text) === 0) return null;
  return Math.min(Number(text), state.bundle.max_words ?? 0) || null;
}

// the explainer chosen ("" for a rating bundle), for PETER+ the feature word typed ("": each item's own),
// and the decoding
function chosen() {
  const decoding = { ...(DECODINGS[$("decoding").value] || DECODINGS.greedy) };
  if (decoding.method === "sample" && typedSeed() !== null) decoding.seed = typedSeed();
  if (typedMinWords() !== null) decoding.min_words = typedMinWords();
  return { explainer: $("explainer").value, word: $("feature-choice").hidden ? "" : $("feature-word").value.trim(),
           decoding };
}

async function showUser(user) {
  state.user = user;
  const request = ++state.request; // answers to older requests are dropped
  document.querySelectorAll("#users li").forEach((li) => li.classList.toggle("active", li.dataset.user === user));
  document.querySelectorAll("#items li").forEach((li) => li.classList.remove("active")); // its card goes too
  $("item-choice").hidden = false;
  state.item = null;
  saveAddress();
  $("status").textContent = `Loading recommendations for ${user}…`;
  const bundle = encodeURIComponent(state.bundle.name);
  const { explainer, word, decoding } = chosen();
  // encoded: PETER+'s "+" would otherwise reach the server as a space
  const query = `bundle=${bundle}&k=9` + (explainer ? `&explainer=${encodeURIComponent(explainer)}` : "") +
    (word ? `&feature_word=${encodeURIComponent(word)}` : "") +
    (explainer ? Object.entries(decoding).map(([name, value]) => `&${name}=${encodeURIComponent(value)}`).join("") : "");
  try {
    const [history, recs] = await Promise.all([
      getJSON(`users/${encodeURIComponent(user)}/history?bundle=${bundle}`),
      getJSON(`users/${encodeURIComponent(user)}/recommendations?${query}`),
    ]);
    if (request !== state.request) return;
    $("past").innerHTML = "";
    renderHistory(history);
    renderCards(recs);
    const explained = recs.items.some((item) => (item.explanations || []).length);
    const why = recs.no_explanation ? ` ${escapeHtml(recs.no_explanation)}.` : ""; // a sentence naming what is missing
    const meant = recs.did_you_mean // a known id close to this new one: offered, one click away
      ? ` Did you mean <a href="#" class="suggestion" data-user="${escapeHtml(recs.did_you_mean)}">${escapeHtml(recs.did_you_mean)}</a>?`
      : "";
    $("status").innerHTML = (recs.cold_start
      ? `<span class="cold">${escapeHtml(user)} is new here: the ${recs.cold_start_items} items` +
        `${explained ? ", with item-side explanations" : ""}.</span>`
      : `${recs.items.length} recommendations for ${escapeHtml(user)}.`) + why + meant;
  } catch (error) {
    if (request === state.request) $("status").textContent = `Error: ${error.message}`;
  }
}

function renderHistory(history) {
  const past = history.history || []; // null: a rating bundle served without its data knows no past ratings
  // an item asked about may be one of them; null: not known
  state.rated = history.history === null ? null : new Map(past.map((h) => [h.item, h.rating]));
  state.past = past;
  $("history-title").hidden = past.length === 0;
  showHistory(Math.min(past.length, state.historyShown));
}

// the first ``count`` of the chosen user's past ratings as chips, and one for the rest when some are not shown
function showHistory(count) {
  const past = state.past;
  const chips = past.slice(0, count).map((h) => `<li tabindex="0" role="button" data-item="${escapeHtml(h.item)}" ` +
    `data-rating="${h.rating}" title="${escapeHtml(h.item)}: click for what the system predicts and writes for it"` +
    `${h.item === state.item ? ' class="active"' : ""}>${escapeHtml(h.title || h.item)} · ` +
    `${ratingText(h.rating, scaleTop())}</li>`);
  if (count < past.length) {
    chips.push(`<li tabindex="0" role="button" class="more" title="show every rating of this user">` +
      `all ${past.length} ratings (${past.length - count} more)</li>`);
  }
  $("history").innerHTML = chips.join("");
}

// what the chosen user gave ``item``: their rating, null when they did not rate it, undefined when the
// bundle does not know what they rated (a rating bundle served without its data)
function ratingGiven(item) {
  return state.rated === null ? undefined : state.rated.get(item) ?? null;
}

// the answer of the bundle chosen to compare with for the chosen user and ``item``: every explainer of
// its own, with the decoding chosen (its fewest words capped at its max_words); null when none is chosen
async function comparedAnswer(item) {
  const other = state.bundles.find((b) => b.name === $("compare").value);
  if (!other) return null;
  const body = { user: state.user, item, bundle: other.name };
  if (other.explainers.length) {
    body.explainer = other.explainers.length > 1 ? "all" : other.explainers[0].id;
    body.decoding = { ...chosen().decoding };
    if (body.decoding.min_words) body.decoding.min_words = Math.min(body.decoding.min_words, other.max_words);
  }
  const response = await politeFetch("explain", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json();
  return response.ok ? { bundle: other, answer } : { bundle: other, error: answer.error || response.statusText };
}

// an item explained for the chosen user: the rating they gave (``rating``: see ratingGiven) beside the
// one the system predicts, and why; beside it, when one is chosen, another bundle's card for the same pair
async function showPast(item, rating) {
  const request = state.request; // dropped if the user or bundle changes meanwhile,
  const click = ++state.pastClick; // or if another item was clicked since
  const { explainer, word, decoding } = chosen();
  const body = { user: state.user, item, bundle: state.bundle.name };
  if (explainer) { body.explainer = explainer; body.decoding = decoding; }
  if (word) body.feature_word = word;
  document.querySelectorAll("#history li, #items li").forEach((li) => li.classList.toggle("active", li.dataset.item === item));
  try {
    const [response, compared] = await Promise.all([
      politeFetch("explain", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      comparedAnswer(item)]);
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    if (request !== state.request || click !== state.pastClick) return;
    state.item = item;
    saveAddress();
    const given = rating === undefined ? "" : `<div class="given">${rating === null ? "not rated" : `rated ${ratingText(rating, scaleTop())}`} by ${escapeHtml(state.user)}</div>`;
    const why = (a) => (a.no_explanation ? `<div class="why">${escapeHtml(a.no_explanation)}.</div>` : "");
    const from = (name) => (compared ? `<div class="from">${escapeHtml(name)}</div>` : "");
    const mine = cardHtml(answer, given + why(answer), from(state.bundle.name));
    $("past").classList.toggle("wide", compared !== null);
    if (!compared) {
      $("past").innerHTML = mine;
      return;
    }
    const theirs = compared.error
      ? `<article class="card">${from(compared.bundle.name)}<div class="status">Error: ${escapeHtml(compared.error)}</div></article>`
      : cardHtml(compared.answer, given + why(compared.answer), from(compared.bundle.name), compared.bundle);
    $("past").innerHTML = `<div class="compared">${mine}${theirs}</div>`;
  } catch (error) {
    if (request === state.request && click === state.pastClick) $("past").innerHTML = `<div class="status">Error: ${escapeHtml(error.message)}</div>`;
  }
}

// the predicted rating itself: the item's baseline plus what the user's own past ratings add; a
// sum past the scale's end, which the stars show clipped, is said so, as `explain --why` says it
function whyRating(split, top = scaleTop(), predicted = null) {
  if (!split) return "";
  const clipped = predicted !== null && split.score.toFixed(2) !== predicted.toFixed(2)
    ? `score ${split.score.toFixed(2)} (clipped to ${predicted.toFixed(2)}) = ` : "";
  const signed = (x) => {  // rounded first, so that a part that rounds to zero reads +0.00, not −0.00
    const shown = Number(x.toFixed(2));
    return `${shown >= 0 ? "+" : "−"}${Math.abs(shown).toFixed(2)}`;
  };
  const parts = split.because.map(
    // an item without a title is named "item 22": MovieLens' bare numbers read as ratings ("22 1★")
    (b) => `${b.title ? escapeHtml(b.title) : `item ${escapeHtml(b.item)}`} ${ratingText(b.rating, top)} ${signed(b.contribution)}`);
  if (split.n_other) parts.push(`${split.n_other} other rating${split.n_other === 1 ? "" : "s"} ${signed(split.other_ratings)}`);
  // named by the service, as the CLI names it (PMF's baseline is the mean rating: it has no item bias)
  const baseline = escapeHtml(split.baseline_label || "baseline");
  return `<div class="why" title="the predicted rating: the item's baseline, what your past ratings add, and the rest (text prior, solver lag)">${clipped}${baseline} ${split.baseline.toFixed(2)} · ${parts.join(" · ")} · rest ${signed(split.rest)}</div>`;
}

// one item's card: title, predicted stars, the rating's split and each explanation (``extra``: HTML under the
// stars; ``head``: above the title; ``bundle``: the bundle that answered, whose scale the stars are out of)
function cardHtml(item, extra = "", head = "", bundle = state.bundle) {
  const top = scaleTop(bundle);
  const explanations = item.explanations || [];
  const about = item.feature_word && item.feature_word !== "<unk>" ? ` · about ${escapeHtml(item.feature_word)}` : "";
  const blocks = explanations.map((e) => `<div class="explanation"><span class="who">${escapeHtml(e.label)}${about}</span>${highlight(e.readable, e.features)}${cutMark(e, bundle)}</div>`).join("");
  const layout = explanations.length > 1 ? "explanations side-by-side" : "explanations";
  return `<article class="card">${head}
      <h3>${escapeHtml(item.title || item.item)}</h3>
      ${item.title && !item.title.endsWith(` · ${item.item}`) ? `<div class="item-id">${escapeHtml(item.item)}</div>` : ""}
      <div class="stars" title="predicted rating">${stars(item.predicted_rating, top)}<span class="value">${item.predicted_rating.toFixed(2)}${top === 5 ? "" : ` / ${top}`}</span></div>
      ${extra}
      ${whyRating(item.rating_split, top, item.predicted_rating)}
      <div class="${layout}">${blocks}</div>
    </article>`;
}

function renderCards(recs) {
  $("recs-title").hidden = false;
  $("cards").innerHTML = recs.items.map((item) => cardHtml(item)).join("");
}

$("bundle").addEventListener("change", (event) => selectBundle(event.target.value).then(saveAddress));
window.addEventListener("hashchange", () => openAddress());
$("user-search").addEventListener("input", () => searchUsers());
$("item-search").addEventListener("input", () => searchItems());
$("explainer").addEventListener("change", () => (state.user ? showUser(state.user) : saveAddress()));
$("feature-word").addEventListener("change", () => (state.user ? showUser(state.user) : saveAddress()));
$("decoding").addEventListener("change", () => {
  $("seed-choice").hidden = $("decoding").value !== "sample"; // a seed steers sampling only
  if (state.user) showUser(state.user);
  else saveAddress();
});
$("seed").addEventListener("change", () => (state.user ? showUser(state.user) : saveAddress()));
// another bundle to compare with: the item card shown is asked again, beside that bundle's
$("compare").addEventListener("change", () => (state.item !== null ? showPast(state.item, ratingGiven(state.item))
  : saveAddress()));
$("min-words").addEventListener("change", () => (state.user ? showUser(state.user) : saveAddress()));
$("users").addEventListener("click", (event) => {
  const li = event.target.closest("li[data-user]");
  if (li) showUser(li.dataset.user);
});
// the lists answer the keyboard as they answer the mouse: Tab to an entry, Enter or Space to choose it
for (const list of ["users", "history", "items"]) {
  $(list).addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target.matches("li[tabindex]")) {
      event.preventDefault();
      event.target.click();
    }
  });
}
// Enter in a search box chooses from its list, once the list answers what is typed: the entry of that very
// id, else the first that holds it; never a merely close id, for which a user box chooses the new user typed
function firstChoice(list, key) {
  const typed = $(list === "users" ? "user-search" : "item-search").value.trim();
  const known = [...$(list).querySelectorAll(`li[data-${key}]:not(.new-user)`)];
  return known.find((li) => li.dataset[key] === typed) || known.find((li) => !li.classList.contains("similar")) ||
    $(list).querySelector("li.new-user");
}
$("user-search").addEventListener("keydown", async (event) => {
  if (event.key !== "Enter") return;
  event.preventDefault();
  await searchUsers();
  firstChoice("users", "user")?.click();
});
$("item-search").addEventListener("keydown", async (event) => {
  if (event.key !== "Enter" || !state.user) return;
  event.preventDefault();
  await searchItems();
  firstChoice("items", "item")?.click();
});
$("history").addEventListener("click", (event) => {
  if (event.target.closest("li.more")) return showHistory(state.past.length);
  const li = event.target.closest("li[data-item]");
  if (li && state.user) showPast(li.dataset.item, Number(li.dataset.rating));
});
$("items").addEventListener("click", (event) => {
  const li = event.target.closest("li[data-item]");
  if (li && state.user) showPast(li.dataset.item, ratingGiven(li.dataset.item));
});
$("status").addEventListener("click", (event) => {
  const link = event.target.closest("a.suggestion");
  if (!link) return;
  event.preventDefault();
  $("user-search").value = link.dataset.user;
  searchUsers().then(() => showUser(link.dataset.user));
});
loadBundles().catch((error) => { $("status").textContent = `Error: ${error.message}`; });
