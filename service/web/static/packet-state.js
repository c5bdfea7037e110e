// The packet page, while the packet renders: ask for its state every two seconds and
// show it, then the download link. Without scripts the page offers "Check again".
(function () {
  "use strict";
  var box = document.getElementById("packet-state");
  if (!box || box.dataset.done === "true") {
    return;
  }
  var word = box.querySelector(".state-word");
  var message = box.querySelector(".state-message");
  var download = box.querySelector(".download");
  var again = box.querySelector(".check-again");
  if (again) {
    again.hidden = true;
  }

  function show(state) {
    word.textContent = state.status;
    message.textContent = state.message;
    box.className = "packet-state state-" + state.status;
    if (state.download_url) {
      download.querySelector("a").href = state.download_url;
      download.hidden = false;
    }
  }

  function poll() {
    fetch(box.dataset.stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (!state.done) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        if (again) {
          again.hidden = false;
        }
      });
  }

  window.setTimeout(poll, 1000);
})();
