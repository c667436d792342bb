"""The phrase table of profile (c): idioms and function words a spinner rewrites.

These rewrites imitate the house style of the phrase-level spinners seen on
content farms ("was" -> "used to be", "countries" -> "international
locations", "number of" -> "assortment of"). They are in no thesaurus, which is
exactly why profile (c) exists: it tests whether the restorer can cope with
substitutions it cannot look up.

This table is *evaluation data*. It must stay separate from anything the
restorer learns from: nothing under ``unspin`` outside ``unspin.simulate`` may
import it, and the learned tables used in the cross-profile benchmark are
harvested from profiles (a), (b) and (d) only. A test checks the import rule.

Keys are tuples of normalised (lower-case) original tokens; values are the
spun variants a spinner may choose from. Inflected forms are listed explicitly
because phrase spinners work on surface strings, not lemmas.
"""

from __future__ import annotations

PHRASE_TABLE: dict[tuple[str, ...], tuple[str, ...]] = {
    # function words and auxiliaries
    ("was",): ("used to be", "became as soon as"),
    ("were",): ("have been", "had been"),
    ("have",): ("hold",),
    ("by",): ("by way of", "by means of"),
    ("at", "least"): ("in any event", "no longer lower than"),
    ("according", "to"): ("per", "in line with"),
    ("so", "far"): ("up to now", "thus far"),
    ("another",): ("one other", "but another"),
    ("either",): ("both",),
    ("despite",): ("no matter", "regardless of"),
    ("during",): ("all over", "at some stage in"),
    ("through",): ("by means of", "via"),
    ("however",): ("on the other hand", "nonetheless"),
    ("because", "of"): ("on account of", "attributable to"),
    ("because",): ("as a result of", "on narrative of"),
    ("due", "to"): ("on account of", "attributable to"),
    ("more", "than"): ("better than", "greater than"),
    ("less", "than"): ("lower than", "decrease than"),
    ("until",): ("till",),
    ("while",): ("whereas",),
    ("not",): ("now not", "no longer"),
    ("could",): ("might", "could possibly"),
    ("would",): ("may", "would possibly"),
    ("should",): ("will have to", "must"),
    ("such", "as"): ("corresponding to", "similar to"),
    ("as", "well", "as"): ("in addition to",),
    ("in", "order", "to"): ("so as to", "in reveal to"),
    ("for", "example"): ("as an instance", "for instance"),
    ("under",): ("beneath", "below"),
    ("within",): ("inside of", "interior"),
    ("against",): ("in opposition to", "towards"),
    ("among",): ("amongst",),
    ("around",): ("round", "spherical"),
    ("including",): ("together with", "along side"),
    ("meanwhile",): ("in the meantime", "within the interim"),
    ("also",): ("additionally", "moreover"),
    # idioms and common content words with house-style rewrites
    ("number", "of"): ("assortment of", "selection of", "collection of"),
    ("countries",): ("international locations",),
    ("nations",): ("international locations",),
    ("foreign",): ("international", "overseas"),
    ("support",): ("give a boost to", "enhance"),
    ("supported",): ("supported by way of", "subsidized"),
    ("people",): ("other folks", "folks"),
    ("said",): ("mentioned", "talked about", "stated"),
    ("says",): ("says", "states"),
    ("told",): ("advised", "instructed"),
    ("asked",): ("requested",),
    ("health",): ("well being", "successfully being"),
    ("death",): ("dying", "loss of life"),
    ("deaths",): ("deaths", "fatalities"),
    ("new",): ("recent", "contemporary"),
    ("figure",): ("establish", "determine"),
    ("includes",): ("entails", "comprises"),
    ("positive",): ("particular", "sure"),
    ("security",): ("safety",),
    ("big",): ("mountainous", "large"),
    ("year",): ("12 months", "yr"),
    ("last", "year"): ("final yr", "remaining 12 months"),
    ("help",): ("lend a hand", "assist"),
    ("children",): ("kids", "younger other folks"),
    ("family",): ("household",),
    ("home",): ("dwelling", "house"),
    ("government",): ("executive", "govt"),
    ("company",): ("firm", "corporate"),
    ("companies",): ("firms", "corporations"),
    ("prices",): ("costs", "charges"),
    ("market",): ("marketplace",),
    ("important",): ("vital", "necessary"),
    ("problem",): ("downside", "drawback"),
    ("problems",): ("issues", "troubles"),
    ("idea",): ("concept", "notion"),
    ("plan",): ("thought", "scheme"),
    ("start",): ("birth", "initiate"),
    ("began",): ("started", "commenced"),
    ("world",): ("global", "sphere"),
    ("police",): ("law enforcement officials", "cops"),
    ("officials",): ("officers", "authorities"),
    ("increase",): ("building up", "amplify"),
    ("use",): ("employ", "exercise"),
    ("show",): ("display", "expose"),
    ("shows",): ("displays", "presentations"),
    ("like",): ("like", "similar to"),
    ("really",): ("in point of fact", "actually"),
    ("today",): ("these days", "nowadays"),
    ("very",): ("very", "extremely"),
    ("fresh",): ("recent",),
    ("highest",): ("top likely", "very best"),
    ("best",): ("perfect", "easiest"),
    ("get",): ("get", "acquire"),
    ("need",): ("want", "wish"),
}
