/* The survey response page: query values become text only (textContent, never markup); the
   invite link shows when the email asked for it (show_invite_link=true) and the flag is on for
   User:<user_id>; the incentive shows only with the link. */
function flagopsPage(flagOn) {
  "use strict";
  var query = new URLSearchParams(window.location.search);
  var invite = document.getElementById("invite");
  var userId = query.get("user_id");
  var actor = userId ? "User:" + userId : null;
  var link = invite !== null && query.get("show_invite_link") === "true" && flagOn(actor);

  function setText(id, value) {
    var holder = document.getElementById(id);
    holder.querySelector("[data-value]").textContent = value || "";
    holder.hidden = !value;
  }

  if (invite !== null) {
    invite.hidden = !link;
    document.getElementById("incentive").hidden = !(link && query.get("show_incentive") === "true");
  }
  document.getElementById("recorded").hidden = link;
  setText("greeting", query.get("name"));
  setText("answer", query.get("response"));
}
