// Scheduling forms: while the interviewer and the time are picked, ask the server whether
// the booking would double-book the interviewer (the same rule the save applies) and show
// the answer with their other interviews that day, before saving. Without scripts the
// save refuses a double booking and shows the same.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-booking-check]");

  function field(form, name) {
    return form.elements.namedItem(name);
  }

  function show(box, answer) {
    box.hidden = false;
    box.className = "booking-check" + (answer.free ? "" : " conflict");
    box.textContent = "";
    var lead = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = answer.free ? "Free at this time." : "Double booking.";
    lead.appendChild(strong);
    lead.appendChild(
      document.createTextNode(" " + (answer.free ? "The interviewer has nothing else then." : answer.message))
    );
    box.appendChild(lead);
    if (answer.same_day.length) {
      var title = document.createElement("p");
      title.textContent = "The interviewer's other interviews that day:";
      var list = document.createElement("ul");
      answer.same_day.forEach(function (other) {
        var item = document.createElement("li");
        item.textContent = other.when + " (interview " + other.id + ")";
        list.appendChild(item);
      });
      box.appendChild(title);
      box.appendChild(list);
    }
  }

  function check(form, box) {
    var starts = field(form, "starts_at").value;
    var who = field(form, "interviewer_id").value;
    if (!starts || !who) {
      box.hidden = true;
      return;
    }
    var url = new URL(form.dataset.bookingCheck, window.location.href);
    url.searchParams.set("starts_at", starts);
    url.searchParams.set("interviewer_id", who);
    var key = field(form, "interview_key");
    if (key) {
      url.searchParams.set("interview_key", key.value);
    }
    var asked = url.toString();
    form.dataset.lastAsked = asked;
    fetch(asked, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (form.dataset.lastAsked !== asked) {
          return; // a newer question is on its way
        }
        if (answer) {
          show(box, answer);
        } else {
          box.hidden = true;
        }
      })
      .catch(function () {
        box.hidden = true;
      });
  }

  forms.forEach(function (form) {
    var box = form.querySelector(".booking-check");
    if (!box) {
      return;
    }
    ["interviewer_id", "starts_at", "interview_key"].forEach(function (name) {
      var input = field(form, name);
      if (input && input.tagName) {
        input.addEventListener("change", function () {
          check(form, box);
        });
      }
    });
    if (field(form, "starts_at").value && form.classList.contains("schedule-form")) {
      check(form, box);
    }
  });
})();
