/* How the site draws its diagrams. Loaded after mermaid and before mkdocs-material's bundle, which
   calls mermaid.initialize and mermaid.render itself: this wraps the two calls.
   - Tighter spacing than mermaid's defaults, so more of a diagram fits a narrow column.
   - On a phone a diagram shrinks to the screen's width, but never below READABLE of its natural
     size (its text stays at 11 px or more): a wider one keeps that size and scrolls sideways in its
     own box, as code blocks do (extra.css). On a wider screen it shrinks to fit, as the theme does. */
(function () {
  if (typeof mermaid === "undefined") return;
  var READABLE = 0.7;
  var PHONE = "screen and (max-width: 44.9375em)"; // mkdocs-material's own breakpoint

  var initialize = mermaid.initialize.bind(mermaid);
  mermaid.initialize = function (config) {
    config = Object.assign({}, config);
    config.flowchart = Object.assign({ nodeSpacing: 30, rankSpacing: 40 }, config.flowchart);
    return initialize(config);
  };

  var render = mermaid.render.bind(mermaid);
  mermaid.render = function () {
    return render.apply(null, arguments).then(function (result) {
      var tag = /^<svg[^>]*>/.exec(result.svg);
      var id = tag && /\bid="([^"]+)"/.exec(tag[0]);
      var width = tag && /max-width: *([\d.]+)px/.exec(tag[0]);
      if (id && width) {
        var rule = "@media " + PHONE + " { svg#" + id[1] + " { min-width: " +
          Math.round(width[1] * READABLE) + "px; } }";
        result.svg = result.svg.replace(/<\/svg>\s*$/, "<style>" + rule + "</style></svg>");
      }
      return result;
    });
  };
})();
