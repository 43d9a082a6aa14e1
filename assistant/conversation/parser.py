"""Typed or recognised text -> a `Question` (intent and slots). Rules, not a model: every phrasing
in resources/conversation_phrases.json and its common variants must parse, and anything else falls
back to keywords, then to UNKNOWN. Never raises. Titles stay as text here; the dialogue matches them
against the catalogue."""
from __future__ import annotations

import functools
import re
import unicodedata

from assistant.conversation.intents import FOCUS_INTENTS, REFERENCES, Intent, Question
from assistant.conversation.numbers import parse_number, parse_stars
from assistant.conversation.occupations import is_occupation

_CONTRACTIONS = (
    (r"\bcan'?t\b", "can not"), (r"\bwon'?t\b", "will not"), (r"\b(\w+)n't\b", r"\1 not"),
    (r"\bi'?m\b", "i am"), (r"\bwhat'?s\b", "what is"), (r"\bit'?s\b", "it is"), (r"\bthat'?s\b", "that is"),
    (r"\bi'?ve\b", "i have"), (r"\bi'?d\b", "i had"), (r"\byou'?re\b", "you are"), (r"\blet'?s\b", "let us"),
    (r"\b(do|did|does|is|was|had|have|has|would|could|should|were|are)nt\b", r"\1 not"),
)
_LEADING_FILLER = re.compile(
    r"^(?:(?:hey|hi|ok|okay|so|and|well|um|uh|please|cinewhy|assistant|now|then|but|oh)\b[\s,]*)+"
)
_TRAILING_FILLER = re.compile(r"(?:[\s,]+(?:please|then|now|for me|to me|thanks|thank you))+$")
_ASKING = re.compile(
    r"^(?:(?:can|could|would|will) you (?:please )?|i (?:want|would like|wanna) (?:you )?to |"
    r"(?:tell me|i want to know|i would like to know|i wonder|do you know) (?=why|what|where|how|which|who))"
)
_TITLE_WRAPPERS = re.compile(r"^(?:the (?:movie|film) |movie |film )(?=\S)")

GENDER_WORDS = {
    "woman": "F", "female": "F", "girl": "F", "lady": "F", "women": "F",
    "man": "M", "male": "M", "guy": "M", "boy": "M", "gentleman": "M", "men": "M",
}
_GENDER = "|".join(sorted(GENDER_WORDS, key=len, reverse=True))

# Lens keywords, most specific first; values are engine.api.Lens values.
_LENS_WORDS = (
    ("influence", "influence"), ("neighbour", "influence"), ("neighbor", "influence"),
    ("training data", "influence"), ("fia", "influence"),
    ("expert", "experts"), ("timeline", "experts"), ("mixture", "experts"), ("sitting", "experts"),
    ("heat map", "pixels"), ("heatmap", "pixels"), ("pixel", "pixels"), ("image", "pixels"), ("poster", "pixels"),
    ("sankey", "relevance"), ("relevance", "relevance"), ("lrp", "relevance"), ("flow", "relevance"),
    ("feature", "relevance"),
)

_T = r"(?P<title>.+?)"
_WATCH = r"(?:watched|watch|seen|see|saw|liked|like|loved|enjoyed)"
_RECOMMEND = r"(?:recommend|recommended|suggest|suggested|pick|picked|choose|chose|show|showed|propose)"
_INFLUENCED = (r"(?:influenced|influences|influence|affected|affects|affect|shaped|shapes|shape|moved|moves|move|"
               r"drove|drives|drive|determined|decided|swayed)")
_MATTERED = rf"(?:mattered|matters|matter|counted|counts|count|weighed|weighs|{_INFLUENCED})"
_MINE = r"(?:of my ratings|ratings of mine|of my rated movies|of my movies|of my votes|one of my ratings)"
_FOR = r"(?:for|on|in|to|with)"
_MY_RATINGS = rf"(?:which|what) (?:{_MINE}|(?:of )?my ratings)(?: have| has)?"
_STARS = r"(?P<stars>(?:\d+(?:\.\d+)?|[a-z]+) (?:stars?|out of (?:5|five))|\d+(?:\.\d+)?/5)"
_RATE = r"(?:rated|rate|gave|give|scored|score|rerated|re-rated)"
# The pixel lens's catalogue demo: the pair of product images on its tab, and its shoppers.
_PAIR = (r"(?:these(?: two)?(?: items| products| images| pictures| garments| clothes| ones| things)?|they|them|"
         r"(?:the|both)(?: two)? (?:items|products|images|pictures|garments)|both|this pair|the pair|the two)")
_LIKE = r"(?:related|similar|a match|matched|matching|alike|linked|connected|considered related|paired)"
_GO = r"(?:match|go together|belong together|relate|pair up|fit together)"
_ITEMS = r"(?:items|products|images|pictures|ones|things|garments|clothes|matches)"
_SHOPPER = r"(?:the |a |my )?(?P<shopper>style|brand)(?:[- ](?:loyal|conscious|minded|focused))? (?:shopper|customer|buyer)"

# The expert lens: which part of the profile (which expert) decided a prediction, and a sitting's guesses.
_DECIDER = r"(?:decided|decides|decide|determined|determines|settled|settles|drove|drives|made|makes|chose|tipped)"
_PART = (r"(?:part|parts|bit|bits|side|aspect|piece) of (?:my|the) (?:profile|data|ratings|taste|tastes|history)")
_GUESS = (r"(?:think|thought|guess|guessed|predict|predicted|expect|expected|assume|assumed|figure|figured|"
          r"reckon|reckoned|decide|decided)")
_I_WOULD = r"i(?: had| would| will| might| should| do| did)?(?: not)?"
_FEEL = r"(?:dislike|like|hate|love|enjoy|want|be into|care for)"

# (intent, pattern) in order: the first full match wins. Patterns see normalised text.
_RULES: tuple[tuple[Intent, str], ...] = (
    (Intent.YES, r"(?:yes|yeah|yep|yup|sure|correct|right|that is right|that is correct|exactly|confirm|"
                 r"go ahead|do it|(?:yes|yeah|ok|okay) (?:please|do it|go ahead|that is (?:right|it)|that one|"
                 r"i did|i do)|yes yes|affirmative)"),
    (Intent.NO, r"(?:no|nope|nah|no thanks|no thank you|no no|wrong|not that one|that is wrong|"
                r"no (?:that is (?:wrong|not (?:it|right))|do not|i did not|i do not|leave it|not that one)|"
                r"do not|never mind|nevermind|negative)"),
    (Intent.STOP, r"(?:stop|stop (?:talking|speaking|it|that|reading)|be quiet|quiet|shut up|silence|hush|enough|"
                  r"cancel|shush|(?:please )?stop)"),
    (Intent.REPEAT, r"(?:repeat(?: (?:that|it|the answer|yourself|please))?|say (?:that|it) again|"
                    r"what did you (?:just )?say|pardon(?: me)?|come again|(?:sorry )?(?:i )?did not (?:catch|hear) that|again)"),
    (Intent.HELP, r"(?:help(?: me)?|what can i (?:ask|say|do)(?: you)?|what can you do|how does (?:this|it) work|"
                  r"what do i (?:say|ask)|commands|options|\?+|i need help|what are my options|instructions)"),
    (Intent.NEXT, r"(?:(?:and )?(?:the )?next(?: one| movie| recommendation)?|another(?: one| movie| recommendation)?|"
                  r"(?:show|give|recommend)(?: me)? (?:another|the next|something else)(?: one| movie)?|"
                  r"what else|anything else|something else|more|one more|what is next|skip(?: it| this one)?)"),
    (Intent.RECOMMEND, r"(?:recommend|suggest)(?: me)?(?: (?:a|some|something|anything|one))?"
                       r"(?: (?:movie|movies|film|films|good))?(?: to watch)?(?: tonight| today)?|"
                       r"what (?:should|could|can|shall) i (?:watch|see)(?: next| tonight| today)?|"
                       r"what (?:do|would) you (?:recommend|suggest)(?: for me)?|give me (?:a )?recommendations?|"
                       r"what is (?:your|the|my) (?:top|best|first) (?:recommendation|pick|movie)|"
                       r"(?:top|best) (?:recommendation|pick)|recommendations?|any (?:recommendations|suggestions)|"
                       r"what is (?:good|recommended)"),
    (Intent.HOW_SURE, rf"how (?:sure|certain|confident) (?:are you|can you be|can i be|is it)(?: (?:about|of) {_T})?|"
                      rf"how (?:sure|certain|confident) (?:are you|can you be) that i (?:would|will|should|had) like {_T}|"
                      rf"(?:are you|you are) (?:really )?(?:sure|certain|confident)(?: (?:about|of) {_T})?|"
                      rf"(?:can you )?prove (?:it|that|this)|(?:can you )?prove (?:that )?i (?:would|will|should|had) like {_T}|"
                      rf"how (?:do|can|would) you (?:really )?know(?: (?:that|this|it))?(?: i (?:would|will|should|had) like {_T})?|"
                      rf"(?:show me |give me |what is )?(?:the |your )?(?:proof|evidence)(?: (?:for|of) {_T})?|"
                      rf"how (?:reliable|trustworthy|faithful|accurate) is (?:this|that|it|the|this explanation|that explanation|"
                      rf"the explanation|your explanation)(?: explanation| recommendation)?|"
                      rf"(?:can|should) i (?:trust|believe) (?:this|that|it|you|the explanation|this explanation)|"
                      rf"check (?:this|that|it|the explanation|this explanation)"),
    # before WHY ("why <title>") and WHO_INFLUENCED ("what decided <title>")
    (Intent.WHY_GUESSED, rf"why (?:did|do|would|were) you {_GUESS} (?:that )?{_I_WOULD} {_FEEL} {_T}|"
                         rf"how (?:did|do) you {_GUESS} (?:that )?{_I_WOULD} {_FEEL} {_T}|"
                         rf"why (?:was|is) (?:the |your |my )?(?:guess|prediction) (?:for|about|of|on) {_T}"
                         rf"(?: (?:so )?(?:low|high|right|wrong|good|bad))?|"
                         rf"why did you (?:guess|predict|get) {_T} (?:wrong|right)|"
                         rf"(?:what|which expert|who) (?:made|decided) (?:the|your) (?:guess|prediction) (?:for|about|on) {_T}"),
    (Intent.EXPERT_DECIDED, rf"(?:which|what) {_PART} (?:has |most |really )?{_DECIDER} {_T}(?: (?:the )?most)?|"
                            rf"(?:which|what) {_PART} (?:was|is|were) (?:behind|responsible for|decisive for) {_T}|"
                            rf"(?:which|what) {_PART} (?:mattered|matters|counted|counts|decided|decides)"
                            rf"(?: (?:the )?most)?(?: (?:for|in|on) {_T})?|"
                            rf"(?:which|what) experts? (?:has |have |most |really )?{_DECIDER} {_T}|"
                            rf"(?:which|what) experts? (?:was|were|is|are) (?:behind|responsible for|confident about|in charge of) {_T}|"
                            rf"(?:which|what) experts? (?:decided|decides|won|was in charge|was confident)(?: (?:for|on|about) {_T})?|"
                            rf"(?:show me |give me |what are )?(?:the |your )?expert shares(?: (?:for|of|on) {_T})?|"
                            rf"who (?:made the call|called it|had the final say) (?:on|for|about) {_T}"),
    (Intent.WHY_UNRELATED, rf"why (?:are|were|is) {_PAIR} not (?:{_LIKE}|related to each other)|"
                           rf"why (?:are|were|is) not {_PAIR} {_LIKE}|"
                           rf"why (?:do|does|did|would|will) {_PAIR} not {_GO}|why (?:do|does|did) not {_PAIR} {_GO}|"
                           rf"what (?:differs|is different)(?: between {_PAIR})?|how (?:do|does) {_PAIR} differ|"
                           rf"what (?:makes|keeps|sets) {_PAIR} (?:apart|different|unrelated)|"
                           rf"what (?:keeps|stops) {_PAIR} from (?:matching|being related)"),
    (Intent.WHY_RELATED, rf"why (?:are|were|is) {_PAIR} (?:{_LIKE}|related to each other)|"
                         rf"why (?:do|does|did|would) {_PAIR} {_GO}|"
                         rf"what (?:do|does) {_PAIR} (?:have in common|share)|what is shared|what do they share|"
                         rf"what makes {_PAIR} (?:{_LIKE}|{_GO})|"
                         rf"why (?:does|would|did) (?:the |this )?shopper (?:think|find|see|consider) {_PAIR} (?:are )?{_LIKE}"),
    (Intent.RELATED_ITEMS, rf"(?:show|give|find|list|display|get)(?: me)?(?: the| some)?(?: most)? (?:related|similar|matching) "
                           rf"{_ITEMS}(?: (?:for|to) (?:this|it|the query|this item|this one|the item))?|"
                           rf"(?:which|what) (?:other )?{_ITEMS} (?:are|is) (?:the )?(?:most )?(?:related|similar)"
                           rf"(?: to (?:this|it|the query|this item|this one|the item))?|"
                           rf"what (?:else )?(?:goes|is related|matches) (?:with|to) (?:this|it|the query|this item|this one)|"
                           rf"(?:most )?(?:related|similar) {_ITEMS}"),
    (Intent.SHOPPER, rf"(?:switch|change|go|move|turn)(?: over| back)? to {_SHOPPER}|"
                     rf"(?:use|show|pick|choose|select|try|take)(?: me)? {_SHOPPER}(?: instead)?|"
                     rf"(?:show|explain)(?: it| this| this pair| these| them| the pair)? (?:for|as|to) {_SHOPPER}(?: instead)?|"
                     rf"(?:what|how) about {_SHOPPER}|(?:as |for )?{_SHOPPER}(?: instead| please)?|"
                     rf"(?:i am|be) {_SHOPPER}"),
    (Intent.WHO_INFLUENCED, rf"(?:show me |tell me )?who (?:has |have |most )?{_INFLUENCED} {_T}(?: (?:the )?most)?|"
                            rf"whose (?:ratings?|votes?|opinions?|stars) (?:have |has |most )?{_INFLUENCED} {_T}(?: (?:the )?most)?|"
                            rf"(?:which|what) (?:other )?(?:ratings|users|people|viewers|raters) (?:have |has |most )?"
                            rf"{_INFLUENCED} {_T}(?: (?:the )?most)?|"
                            rf"what (?:has )?{_INFLUENCED} {_T}(?: (?:the )?most)?|"
                            rf"(?:which|what|whose) ratings (?:have |has )?{_MATTERED}(?: (?:the )?most)? {_FOR} {_T}|"
                            rf"(?:who|which ratings|what ratings) (?:is|are|were) behind {_T}"),
    # "influenced <title> most" before "mattered most for <title>": a title may begin with "for"
    (Intent.MY_RATINGS, rf"{_MY_RATINGS} {_INFLUENCED} {_T} (?:the )?most|"
                        rf"{_MY_RATINGS} {_MATTERED} (?:the )?most(?: {_FOR} {_T})?|"
                        rf"{_MY_RATINGS} {_MATTERED}(?: {_FOR} {_T})?|"
                        rf"{_MY_RATINGS} {_INFLUENCED} {_T}|"
                        rf"how (?:did|do|have|does) my ratings {_INFLUENCED} {_T}|what did my ratings do (?:for|to) {_T}|"
                        rf"(?:what|which) (?:are|were) my (?:most )?(?:influential|important) ratings(?: {_FOR} {_T})?|"
                        rf"my (?:most )?(?:influential|important) ratings(?: {_FOR} {_T})?"),
    (Intent.LENS, r"(?:show|switch to|open|use|go to|display|see|view|change to|give me)(?: me)?(?: the| your)? "
                  r"(?P<lens>.+?)(?: (?:view|tab|lens|diagram|graph|explanation))?"),
    (Intent.SET_ATTRIBUTES, rf"i am (?:a |an )?(?P<age>[\w -]+?) (?:years?|yrs?)(?: old)?(?: (?P<gender>{_GENDER}))?"
                            rf"(?: (?:and )?(?:i )?(?:work as|working as)(?: an?)? (?P<occupation>[\w -]+))?"),
    (Intent.SET_ATTRIBUTES, rf"i am (?:a |an )?(?P<gender>{_GENDER})(?: (?:aged|of) (?P<age>[\w -]+?))?"),
    (Intent.SET_ATTRIBUTES, r"(?:i am (?:now )?)?(?:i )?(?:work|working) (?:as|in) (?:an? )?(?P<occupation>[\w -]+)|"
                            r"my (?:job|occupation|profession|work) is(?: an?)? (?P<occupation2>[\w -]+)|"
                            r"i am (?:an? )?(?P<occupation3>[\w -]+?) by (?:profession|trade)"),
    (Intent.SET_ATTRIBUTES, r"(?:i am|my age is|age) (?P<age>\d+|[a-z -]+? (?:one|two|three|four|five|six|seven|eight|nine)|"
                            r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
                            r"thirty|forty|fifty|sixty|seventy|eighty|ninety))"),
    (Intent.SET_ATTRIBUTES, r"i am (?:now |also )?(?:a |an )?(?P<occupation_word>[a-z][\w -]*)"),
    (Intent.WHY_NOT, rf"why not(?: {_T})?|why (?:do|did|would|will|can) you not {_RECOMMEND} {_T}|"
                     rf"why (?:do|did|would|will|can) not you {_RECOMMEND} {_T}|"
                     rf"why (?:is|was|has|does) not {_T} (?:recommended|suggested|on my list|in my list|higher)|"
                     rf"why (?:is|was) {_T} not (?:recommended|suggested|on (?:my|the) list|in (?:my|the) "
                     rf"(?:list|recommendations|top (?:ten|twenty|\d+))|higher|ranked higher|there)|"
                     rf"why (?:does|did|is) {_T} (?:rank|score|ranked|scored) (?:so )?low(?:er)?|"
                     rf"where (?:does|is|did) {_T} (?:rank|ranked|come|stand)|what (?:pulls|keeps|holds) {_T} (?:down|back|low)|"
                     rf"how (?:does|is) {_T} ranked|what rank is {_T}"),
    (Intent.WHAT_IF_RATE, rf"what (?:if|would happen if|happens if|about if) i (?:had |would have |were to |now |instead )?"
                          rf"{_RATE} {_T} (?:with |at |as |only |just )?{_STARS}(?: instead)?|"
                          rf"what (?:about|if) (?:rating|giving) {_T} (?:with |at |only |just )?{_STARS}(?: instead)?|"
                          rf"what if my rating (?:of|for) {_T} (?:was|were|is|became) {_STARS}|"
                          rf"what (?:if|would happen if|happens if) i (?:had |would have |were to )?{_RATE} {_T}"),
    (Intent.WHAT_IF_REMOVE, rf"what (?:if|would happen if|happens if|about if) i (?:had not|had never|have not|did not|"
                            rf"never|do not|would not have|had not ever) (?:ever )?{_WATCH} {_T}|"
                            rf"what (?:if|would happen if|happens if) i (?:remove|removed|drop|dropped|take out|took out|"
                            rf"forget|forgot|delete|deleted|unwatch) {_T}(?: from my (?:profile|list))?|"
                            rf"what (?:about|if|happens) without {_T}|(?:and )?without {_T}\?*"),
    (Intent.WHAT_IF_ADD, rf"what (?:if|would happen if|happens if|about if) i (?:(?:had|have|had also|also|were to|"
                         rf"would have|did) )?(?:{_WATCH}|add|added) {_T}(?: to my (?:profile|list))?|"
                         rf"what (?:about|if) (?:adding|watching) {_T}"),
    (Intent.WHY, rf"why (?:(?:do|did|would|will|have|are|were) )?you (?:{_RECOMMEND}|recommending|suggesting) {_T}|"
                 rf"why (?:is|was|are) {_T} (?:recommended|suggested|in my list|on my list|at the top|number one|first|"
                 rf"a good (?:choice|pick|match|recommendation)|there|here|for me)|"
                 rf"why should i (?:watch|see|like) {_T}|explain {_T}|explain|why(?: {_T})?|"
                 rf"how come(?: you (?:{_RECOMMEND}))? {_T}|what makes {_T} (?:a good|recommended|a match|right)(?: .*)?|"
                 rf"reasons? for {_T}|why (?:do|would) i like {_T}"),
    (Intent.TELL_ABOUT, rf"(?:tell me|talk)(?: (?:a bit|a little|more|something))? about {_T}|what do you know about {_T}|"
                        rf"(?:describe|info on|info about|information about|information on|details (?:on|about|of)) {_T}|"
                        rf"what is {_T}(?: about)?|who (?:is in|directed|made|stars in) {_T}|what kind of (?:movie|film) is {_T}"),
    (Intent.REMOVE, rf"(?:remove|delete|drop|erase|forget|unwatch|take out) {_T}(?: from (?:my )?(?:profile|list|movies))?|"
                    rf"take {_T} (?:out|off)(?: of (?:my )?(?:profile|list))?|"
                    rf"i (?:did not|never|do not) (?:like|watch|see|enjoy|love)(?:d)? {_T}|i (?:hated|disliked|hate|dislike) {_T}"),
    (Intent.ADD, rf"(?:add|include|put) {_T}(?: (?:to|in|into|on) (?:my )?(?:profile|list|movies|watched(?: list)?))?|"
                 rf"i (?:have |also |just |recently |really )?(?:watched|seen|saw|liked|loved|enjoyed|like|love) {_T}|"
                 rf"mark {_T} as (?:watched|seen|liked)"),
)


def _alternatives(pattern: str) -> list[str]:
    """Split at top-level "|": Python's re forbids a group name twice in one pattern."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(pattern):
        escaped = index > 0 and pattern[index - 1] == "\\"
        if char == "(" and not escaped:
            depth += 1
        elif char == ")" and not escaped:
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
    return parts + [pattern[start:]]


@functools.cache
def compiled_rules() -> tuple[tuple[Intent, re.Pattern], ...]:
    """The rules' alternatives, compiled at the first question rather than at import: compiling
    them all took 30-80 ms of the app's start, before the first Sankey."""
    return tuple((intent, re.compile(part)) for intent, pattern in _RULES for part in _alternatives(pattern))


def normalise_text(text: str) -> str:
    """Lower case, straight quotes, contractions expanded, fillers and end punctuation dropped."""
    text = unicodedata.normalize("NFKC", str(text)).replace("’", "'").replace("‘", "'").replace("`", "'")
    text = text.casefold().replace(",", " ").strip()  # commas carry nothing a rule needs, even in titles
    text = re.sub(r"\s+", " ", text)
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    text = text.strip(" \t.!,;:\"")
    bare = text.rstrip("?").strip()
    if bare:
        text = bare
    for _ in range(2):
        text = _LEADING_FILLER.sub("", text).strip()
        text = _ASKING.sub("", text).strip()
        text = _TRAILING_FILLER.sub("", text).strip(" ,.!")
    return text


def parse(text: str) -> Question:
    """The intent and slots of one question; UNKNOWN when nothing fits."""
    original = str(text) if text is not None else ""
    normal = normalise_text(original)
    if not normal:
        return Question(original, Intent.HELP if "?" in original else Intent.UNKNOWN)
    for intent, pattern in compiled_rules():
        match = pattern.fullmatch(normal)
        if match is None:
            continue
        question = _fill(original, intent, match)
        if question is not None:
            return question
    return _by_keywords(original, normal)


def _fill(original: str, intent: Intent, match: re.Match) -> Question | None:
    groups = {name: value for name, value in match.groupdict().items() if value}
    if intent is Intent.LENS:
        lens = lens_from_words(groups.get("lens", ""))
        return Question(original, intent, lens=lens) if lens else None
    if intent is Intent.SET_ATTRIBUTES:
        return _attributes(original, groups)
    extra = {"shopper": groups["shopper"]} if "shopper" in groups else {}
    if "stars" in groups:
        extra["stars"] = parse_stars(groups["stars"])
        if extra["stars"] is None:
            return None  # "what if I rated Alien blue stars": not a rating
    title = groups.get("title")
    if title is None:
        needs_title = intent in (Intent.WHAT_IF_ADD, Intent.WHAT_IF_REMOVE, Intent.WHAT_IF_RATE, Intent.TELL_ABOUT,
                                 Intent.ADD, Intent.REMOVE)
        return None if needs_title else Question(original, intent, reference=intent in FOCUS_INTENTS, **extra)
    title = clean_title(title)
    if not title:
        return None
    if is_reference(title):
        return Question(original, intent, reference=True, **extra)
    return Question(original, intent, title=_as_typed(title, original), **extra)


def _attributes(original: str, groups: dict) -> Question | None:
    age = None
    if "age" in groups:
        age = parse_number(groups["age"])
        if age is None or not 1 <= age <= 120:
            return None
    gender = GENDER_WORDS.get(groups.get("gender", ""))
    if "occupation_word" in groups and not is_occupation(groups["occupation_word"]):
        return None  # "I am a fan of Alien" is not a job
    occupation = next((groups[k] for k in ("occupation", "occupation2", "occupation3", "occupation_word") if k in groups), None)
    occupation = re.sub(r"^(?:an?|the) ", "", occupation.strip()) if occupation else None
    if age is None and gender is None and not occupation:
        return None
    return Question(original, Intent.SET_ATTRIBUTES, age=age, gender=gender, occupation=occupation or None)


def _as_typed(title: str, original: str) -> str:
    """The title with the asker's capitals when it appears verbatim ("Fargo", not "fargo")."""
    found = re.search(re.escape(title), original, re.IGNORECASE)
    return found.group(0) if found else title


def clean_title(text: str) -> str:
    """The title as asked, without wrapping words ("the movie Alien", "Fargo for me")."""
    text = text.strip(" ,.?!\"'")
    text = _TRAILING_FILLER.sub("", text).strip(" ,.?!\"'")
    if not is_reference(text):
        text = _TITLE_WRAPPERS.sub("", text)
    return text.strip(" ,.?!\"'")


def is_reference(text: str) -> bool:
    return text.strip() in REFERENCES


def lens_from_words(text: str) -> str | None:
    for word, lens in _LENS_WORDS:
        if word in text:
            return lens
    return None


def _by_keywords(original: str, normal: str) -> Question:
    """Last resort for phrasings no rule covers: a few unambiguous keywords."""
    words = set(re.findall(r"[a-z]+", normal))
    if "shopper" in words and words & {"brand", "style"}:  # "the brand shopper's view": the pixel tab
        return Question(original, Intent.SHOPPER, shopper="brand" if "brand" in words else "style")
    if words & {"my", "mine"} and words & {"rating", "ratings"} and words & {"mattered", "matter", "most", "influenced",
                                                                              "influence", "counted"}:
        return Question(original, Intent.MY_RATINGS, reference=True)
    if words & {"who", "whose"} and words & {"influenced", "influence", "influences", "influencing"} or \
            words & {"rating", "ratings"} and words & {"mattered", "matter", "influenced", "counted"}:
        return Question(original, Intent.WHO_INFLUENCED, reference=True)
    if "why" in words and ("not" in words or "isnt" in words):
        return Question(original, Intent.WHY_NOT, reference=True)
    if "why" in words or "explain" in words or "reason" in words or "reasons" in words:
        return Question(original, Intent.WHY, reference=True)
    if "help" in words:
        return Question(original, Intent.HELP)
    if words & {"recommend", "recommendation", "recommendations", "suggest", "suggestion"}:
        return Question(original, Intent.RECOMMEND)
    if words & {"stop", "quiet", "silence"}:
        return Question(original, Intent.STOP)
    lens = lens_from_words(normal)
    if lens and words & {"show", "view", "open", "switch", "tab", "lens", "graph", "diagram"}:
        return Question(original, Intent.LENS, lens=lens)
    return Question(original, Intent.UNKNOWN)
