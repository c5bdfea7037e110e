// The board, for mouse users: drag a card to another column to move it. A column the
// template does not allow from the card's stage refuses the drop and says which are
// allowed; an allowed one asks for the reason, then sends the card's own move form
// (the same POST as its button, with its version, so a card someone else moved
// meanwhile gets the server's answer). Without scripts, the buttons do it all.
(function () {
  "use strict";
  var board = document.querySelector(".board");
  var dialog = document.getElementById("move-dialog");
  var message = document.getElementById("drop-message");
  if (!board || !dialog || !message || typeof dialog.showModal !== "function") {
    return;
  }
  var dragged = null;
  var target = null;

  function allowed(card, stage) {
    return card.dataset.allowed.split(" ").indexOf(stage) !== -1;
  }

  function stageName(column) {
    return column.dataset.stageName;
  }

  function clearMarks() {
    board.querySelectorAll(".drop-ok, .drop-refused").forEach(function (column) {
      column.classList.remove("drop-ok", "drop-refused");
    });
  }

  function say(text, refused) {
    message.textContent = text;
    message.className = "drop-message" + (refused ? " refused" : "");
  }

  function refuse(card, column) {
    var from = card.closest(".column");
    say(
      "Not moved: the template does not allow a move from " + stageName(from) + " to " +
        stageName(column) + ". Allowed next: " + card.dataset.allowedNames + ".",
      true
    );
  }

  function askReason(card, column) {
    target = { card: card, stage: column.dataset.stage };
    dialog.querySelector("#move-dialog-title").textContent =
      "Move " + card.dataset.candidate + " to " + stageName(column);
    dialog.querySelector("#move-dialog-reason").value = "";
    dialog.returnValue = "";
    dialog.showModal();
  }

  dialog.addEventListener("close", function () {
    var chosen = target;
    target = null;
    var reason = dialog.querySelector("#move-dialog-reason").value.trim();
    if (!chosen || dialog.returnValue !== "move" || !reason) {
      return;
    }
    var form = chosen.card.querySelector(".move-form");
    form.elements.to_stage.value = chosen.stage;
    form.elements.reason.value = reason;
    say("Moving " + chosen.card.dataset.candidate + "…", false);
    form.requestSubmit();
  });

  board.querySelectorAll(".card").forEach(function (card) {
    if (!card.querySelector(".move-form")) {
      return;
    }
    card.draggable = true;
    card.classList.add("draggable");
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.id);
      card.classList.add("dragging");
    });
    card.addEventListener("dragend", function () {
      card.classList.remove("dragging");
      dragged = null;
      clearMarks();
    });
  });

  board.querySelectorAll(".column").forEach(function (column) {
    column.addEventListener("dragover", function (event) {
      if (!dragged || dragged.dataset.stage === column.dataset.stage) {
        return;
      }
      // Every other column takes the drop (and answers it), so a refused one can say why;
      // its outline shows beforehand which it will be.
      event.preventDefault();
      var ok = allowed(dragged, column.dataset.stage);
      event.dataTransfer.dropEffect = "move";
      clearMarks();
      column.classList.add(ok ? "drop-ok" : "drop-refused");
    });
    column.addEventListener("dragleave", function (event) {
      if (!column.contains(event.relatedTarget)) {
        column.classList.remove("drop-ok", "drop-refused");
      }
    });
    column.addEventListener("drop", function (event) {
      event.preventDefault();
      var card = dragged;
      clearMarks();
      if (!card || card.dataset.stage === column.dataset.stage) {
        return;
      }
      if (allowed(card, column.dataset.stage)) {
        askReason(card, column);
      } else {
        refuse(card, column);
      }
    });
  });

  document.querySelector(".drag-hint").hidden = false;
})();
