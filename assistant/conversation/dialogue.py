"""A conversation about one profile's recommendations: keeps the context ("it" is the selected or last
mentioned movie, "next" walks the list, "repeat" the last answer, "why" is asked through the lens on
screen) and answers each question from the engine's explanation objects, phrased by the lens's
phrasing (assistant/conversation/phrasings): nothing here knows which lenses exist; a lens's own
questions ("who influenced this?") are answered by its module there. Runs wherever the engine may
run (the app calls it on a worker thread). `ask` never raises: every failure becomes an answer that
says what went wrong."""
from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from assistant.conversation import phrasing as say
from assistant.conversation.intents import Answer, Intent, ProfileChange, Question, apply_change, plain_answer
from assistant.conversation.phrasings import (
    LENS_QUESTIONS, LENS_SHOWN, PHRASINGS, SCREEN_QUESTIONS, LensPhrasing, phrasing_for,
)
from assistant.conversation.occupations import match_occupation
from assistant.conversation.parser import parse
from assistant.conversation.titles import TitleResolver
from engine.api import (
    Engine, EngineError, GENDERS, LENS_TITLES, Lens, LensUnavailableError, Movie, Profile, RelevanceExplanation,
    group_by_genre, normalise_age,
)

LIST_LENGTH = 20  # the recommendation list the window shows: "recommended" means in it
# The recommender's own lens explains every ranking on every dataset: "why" is answered through it
# when the lens on screen cannot explain (not built, or unavailable on this dataset).
RECOMMENDER_LENS = Lens.RELEVANCE
log = logging.getLogger(__name__)

HELP_TEXT = (
    "You can ask: why this movie? · why not <title>? · what if I hadn't seen <title>? · what if I add <title>? · "
    "recommend something · next · tell me about <title> · add <title> · remove <title> · "
    "I am a 30 year old woman · I work as a teacher · who influenced this? · which of my ratings mattered most? · "
    "what if I rated <title> 2 stars? · how sure are you? · show the influence graph · "
    "which part of my profile decided this? · why did you think I'd dislike <title>? · show the timeline · repeat · stop. "
    "On the pixel relevance tab (the product catalogue demo): why are these related? · why not? · "
    "show me related items · switch to the brand shopper."
)
HELP_SPEECH = (
    "You can ask why this movie, why not a title, what if I hadn't seen a title, who influenced this, "
    "recommend something, next, tell me about a title, add or remove a title, or tell me your age and job."
)


class Conversation:
    def __init__(self, engine: Engine, profile: Profile | None = None, aliases=None):
        self.engine = engine
        self.catalogue = engine.catalogue
        self.movies: dict[int, Movie] = {m.id: m for m in self.catalogue.movies}
        self.titles = TitleResolver(self.catalogue.movies, aliases)
        self.profile = profile or Profile()
        self.focus: int | None = None  # the selected or last mentioned movie
        self.lens = Lens.RELEVANCE  # the lens on screen: "why" is answered through it
        self.grouped = False  # the Sankey's grouped view is on: answers name its genre groups
        self.view_states: dict[Lens, object] = {}  # what a tab shows that is not a movie (the pixel tab's pair)
        self.last_answer: Answer | None = None
        self._list: list[int] = []  # the recommendations "next" walks, for self._list_profile
        self._list_profile: Profile | None = None
        self._cursor = 0
        # A question waiting for a yes: a spoken profile change, or the movie offered by "did you mean"
        self.pending: Question | None = None
        liked = np.asarray(self.catalogue.liked.sum(axis=0)).ravel()
        self._fans = {int(m): int(n) for m, n in zip(self.catalogue.item_ids, liked)}

    # ----- context -----

    def set_profile(self, profile: Profile) -> None:
        self.profile = profile

    def set_focus(self, movie_id: int | None) -> None:
        """The movie the window shows: what "it" and "this movie" mean until another one is named."""
        self.focus = movie_id

    def set_lens(self, lens: Lens | str) -> None:
        """The lens the window shows: "why this movie?" is answered from its explanation."""
        self.lens = Lens(lens)

    def set_grouped(self, grouped: bool) -> None:
        """Whether the Sankey groups the profile's movies by genre: the answers follow the view."""
        self.grouped = bool(grouped)

    def set_view_state(self, lens: Lens | str, state) -> None:
        """What `lens`'s tab shows when its subject is not a movie (the pixel tab's pair of catalogue
        images): its own questions are answered about it."""
        self.view_states[Lens(lens)] = state

    def view_state(self, lens: Lens | str):
        return self.view_states.get(Lens(lens))

    # ----- answering -----

    def ask(self, text: str) -> Answer:
        return self.answer(parse(text))

    def hear(self, text: str, doubt: str = "", unsure: bool = False) -> Answer:
        """A spoken question as the recogniser heard it. `doubt` says why it heard nothing it can
        vouch for (silence, noise, too short): nothing is done then. `unsure` says its words may be
        wrong: a title it names is offered ("did you mean ...?") rather than acted on. A profile
        change it asks for is confirmed first ("Add Heat (1995) to your profile? Say yes or no.")."""
        if doubt or not text.strip():
            question = Question(text, Intent.UNKNOWN, spoken=True)
            why = f" ({doubt})" if doubt else ""
            return plain_answer(question, f"I didn't catch that{why}. Please say it again, or type it.",
                                "I didn't catch that. Please say it again.")
        return self.answer(replace(parse(text), spoken=True, unsure=unsure))

    def answer(self, question: Question) -> Answer:
        if question.intent not in (Intent.YES, Intent.NO, Intent.REPEAT):
            self.pending = None  # another question: the offer waiting for a yes is dropped
        answer = self._handled(question)
        asked = answer.question  # after a yes: the question said yes to
        if answer.change is not None and asked.spoken and not asked.confirmed:
            answer = self._confirmation(asked, answer.change)
        if answer.change is not None:
            self.profile = apply_change(self.profile, answer.change)
        if answer.movie_id is not None:
            self.focus = answer.movie_id
        if answer.lens is not None:  # the window switches to the answer's lens
            self.lens = Lens(answer.lens)
        if question.intent not in (Intent.REPEAT, Intent.STOP):
            self.last_answer = answer
        return answer

    def _handled(self, question: Question) -> Answer:
        # A lens's own questions ("who influenced this?") are answered by its module; the rest here.
        lens_handler = LENS_QUESTIONS.get(question.intent)
        if question.title is None and question.intent in SCREEN_QUESTIONS.get(self.lens, {}):
            lens_handler = SCREEN_QUESTIONS[self.lens][question.intent]  # "why?" about the tab in front
        handler = getattr(self, f"_{question.intent.value}") if lens_handler is None else None
        try:
            answer = lens_handler(self, question) if lens_handler is not None else handler(question)
        except LensUnavailableError as error:  # the engine's sentence says which lens and why
            answer = plain_answer(question, str(error))
        except EngineError as error:
            answer = plain_answer(question, f"Sorry, I could not answer that: {error}")
        except Exception as error:  # a bug must not take the conversation down: say it, log it
            log.exception("conversation failed on %r", question.text)
            answer = plain_answer(question, f"Sorry, something went wrong while answering ({type(error).__name__}: {error}).")
        return answer

    def _confirmation(self, question: Question, change: ProfileChange) -> Answer:
        """Asks before a spoken edit is made: a misheard word must not change the profile."""
        movie_id = (change.add or change.remove or (None,))[0]
        self.pending = replace(question, movie_id=movie_id, confirmed=True)
        if change.add or change.remove:
            movie = self.movies[movie_id]
            verb, where = ("Add", "to") if change.add else ("Remove", "from")
            text = f"{verb} {self.written(movie)} {where} your profile? Say yes or no."
            speech = f"{verb} {say.spoken_title(movie)} {where} your profile? Say yes or no."
        else:
            said = {"gender": lambda v: GENDERS.get(v, v), "age": lambda v: f"aged {v}",
                    "occupation": lambda v: f"working as {v}"}
            parts = ", ".join(said[name](value) for name, value in change.attributes)
            text = f"Change your profile to: {parts}? Say yes or no."
            speech = text.replace("-", " to ")
        return Answer(question, text, speech, movie_id=movie_id)

    def _offer(self, question: Question, movie: Movie) -> Answer:
        """ "I heard ..., did you mean <movie>?": a yes then answers the question about it."""
        self.pending = replace(question, movie_id=movie.id, unsure=False, confirmed=True)
        text = f"I heard “{question.text.strip()}”. Did you mean {self.written(movie)}? Say yes or no."
        speech = f"Did you mean {say.spoken_title(movie)}? Say yes or no."
        return Answer(question, text, speech, suggestions=(movie.label,))

    def _yes(self, question: Question) -> Answer:
        pending, self.pending = self.pending, None
        if pending is None:
            return plain_answer(question, "There is nothing waiting for a yes. " + HELP_TEXT, "There is nothing to say yes to.")
        return self._handled(pending)

    def _no(self, question: Question) -> Answer:
        pending, self.pending = self.pending, None
        if pending is None:
            return plain_answer(question, "There is nothing waiting for a yes or no. " + HELP_TEXT,
                                "There is nothing to say no to.")
        if pending.intent in (Intent.ADD, Intent.REMOVE, Intent.SET_ATTRIBUTES):
            return plain_answer(question, "OK, I left your profile as it is.")
        return plain_answer(question, "OK. Which movie did you mean? Say or type its title.")

    # ----- helpers -----

    def movie_asked(self, question: Question) -> Movie | Answer:
        """The movie a question is about: the title it names, else the movie in focus, else the top
        recommendation. An unknown title gives the "did you mean" answer instead."""
        if question.movie_id is not None and question.movie_id in self.movies:
            return self.movies[question.movie_id]
        if question.title:
            found = self.titles.resolve(question.title)
            if found.movie is None:
                return self._unknown_title(question, found.suggestions, found.ambiguous)
            if question.unsure:  # the recogniser may have misheard the title: offer, don't act
                return self._offer(question, found.movie)
            return found.movie
        if self.focus is not None and self.focus in self.movies:
            return self.movies[self.focus]
        return self.engine.recommend(self.profile, 1)[0].movie

    def _unknown_title(self, question: Question, suggestions: tuple[Movie, ...], ambiguous: bool = False) -> Answer:
        """No confident match: "did you mean ...?" (a single suggestion waits for a yes); nothing is done."""
        asked = question.title
        if len(suggestions) == 1:
            self.pending = replace(question, movie_id=suggestions[0].id, unsure=False, confirmed=True)
        lead = (f"“{asked}” could be more than one movie." if ambiguous
                else f"I don't know a movie called “{asked}”.")
        if question.spoken:
            lead = f"I heard “{question.text.strip()}”. {lead}"
        if suggestions:
            labels = [say.written_title(m) for m in suggestions]
            spoken = [say.spoken_title(m) for m in suggestions]
            text = f"{lead} Did you mean {_either(labels)}?"
            speech = f"{lead} Did you mean {_either(spoken)}?"
        else:
            text = speech = f"{lead} Try a part of its title."
        return Answer(question, text, speech.replace("“", "").replace("”", ""),
                      suggestions=tuple(m.label for m in suggestions))

    def written(self, movie: Movie) -> str:
        return say.written_title(movie)

    def _phrasing(self, lens: Lens) -> LensPhrasing:
        return phrasing_for(lens, self.movies)

    def explained(self, movie: Movie, profile: Profile | None = None, lens: Lens | None = None):
        """The explanation of `movie` for the profile through `lens` (default: the lens on screen, or
        the recommender's own when that one cannot explain or cannot be phrased)."""
        explanation = self.engine.explain(self.profile if profile is None else profile, movie.id,
                                          lens or self._screen_lens())
        if self.grouped and isinstance(explanation, RelevanceExplanation):
            explanation = group_by_genre(explanation)
        return explanation

    def _screen_lens(self) -> Lens:
        if self.lens in PHRASINGS and self.engine.lenses().get(self.lens) is None:
            return self.lens
        return RECOMMENDER_LENS

    def top(self, profile: Profile) -> Movie:
        return self.engine.recommend(profile, 1)[0].movie

    def _in_profile(self, question: Question, movie: Movie) -> Answer:
        text = (f"{self.written(movie)} is in your profile, so I don't recommend it: I only recommend movies "
                "you haven't watched.")
        return Answer(question, text, text.replace(self.written(movie), say.spoken_title(movie)), movie_id=movie.id)

    def _left_out(self, question: Question, movie: Movie) -> Answer:
        """A profile movie asked about: explained as if it were left out (the relevance lens does so),
        so the answer is about the rest of the profile."""
        if self._screen_lens() is not Lens.RELEVANCE:  # only the relevance lens leaves a movie out
            return self._in_profile(question, movie)
        explanation = self.explained(movie)
        phrasing = self._phrasing(explanation.lens)
        if not getattr(explanation, "left_out", False) or not hasattr(phrasing, "left_out"):
            return self._in_profile(question, movie)
        said = phrasing.left_out(movie, explanation)
        return Answer(question, said.text, said.speech, movie.id, explanation.lens.value, said.shares,
                      explanation.rank, explanation=explanation)

    # ----- intents -----

    def _why(self, question: Question) -> Answer:
        movie = self.movie_asked(question)
        if isinstance(movie, Answer):
            return movie
        if movie.id in self.profile.movies:
            return self._left_out(question, movie)
        rank = self.engine.rank_of(self.profile, movie.id)
        if rank is not None and rank > LIST_LENGTH:
            return self._why_not(question, movie)
        return self._recommended(question, movie, rank)

    def _recommended(self, question: Question, movie: Movie, rank: int, lead: str = "I recommend") -> Answer:
        explanation = self.explained(movie)
        said = self._phrasing(explanation.lens).recommended(movie, rank, explanation, lead)
        return Answer(question, said.text, said.speech, movie.id, explanation.lens.value, said.shares, rank,
                      explanation=explanation)

    def _why_not(self, question: Question, movie: Movie | None = None) -> Answer:
        movie = movie or self.movie_asked(question)
        if isinstance(movie, Answer):
            return movie
        if movie.id in self.profile.movies:
            return self._left_out(question, movie)
        rank = self.engine.rank_of(self.profile, movie.id)
        if rank <= LIST_LENGTH:
            return self._recommended(question, movie, rank, lead="But I do recommend")
        explanation = self.explained(movie)
        unseen = len(self.movies) - len(self.profile.movies)
        said = self._phrasing(explanation.lens).not_recommended(movie, rank, unseen, explanation)
        return Answer(question, said.text, said.speech, movie.id, explanation.lens.value, said.shares, rank,
                      explanation=explanation)

    def _what_if(self, question: Question, adding: bool) -> Answer:
        changed = self.movie_asked(question) if question.title else None
        if changed is None:
            return plain_answer(question, f"Which movie? Say for example “what if I {'add' if adding else 'had not watched'} Alien”.")
        if isinstance(changed, Answer):
            return changed
        owned = changed.id in self.profile.movies
        if adding and owned:
            return plain_answer(question, f"{self.written(changed)} is already in your profile.",
                          f"{say.spoken_title(changed)} is already in your profile.")
        if not adding and not owned:
            return plain_answer(question, f"{self.written(changed)} is not in your profile, so leaving it out changes "
                          f"nothing. Ask “what if I add {changed.title}” instead.",
                          f"{say.spoken_title(changed)} is not in your profile, so nothing would change.")
        after = self.profile.with_movie(changed.id) if adding else self.profile.without_movie(changed.id)
        subject_id = self.focus if self.focus not in (None, changed.id) and self.focus not in after.movies else None
        subject = self.movies[subject_id] if subject_id in self.movies else self.top(self.profile)
        if subject.id in after.movies:
            subject = self.top(self.profile)
        before_rank = self.engine.rank_of(self.profile, subject.id)
        after_rank = self.engine.rank_of(after, subject.id)
        top_after = self.top(after)
        verb = "With" if adding else "Without"
        move = (f"would stay at number {before_rank}" if before_rank == after_rank
                else f"would move from number {before_rank} to number {after_rank}")
        text = f"{verb} {self.written(changed)}, {self.written(subject)} {move}"
        speech = f"{verb} {say.spoken_title(changed)}, {say.spoken_title(subject)} {move}"
        shares, explanation = (), None
        if not adding:  # what the removed movie contributes to the subject, from its explanation on screen
            explanation = self.explained(subject)
            part = self._phrasing(explanation.lens).part_of(explanation, changed.id)
            if part is not None:
                text += f" ({part.text})"
                shares = part.shares
        same = top_after.id == self.top(self.profile).id
        ending = f"your top recommendation would {'still be' if same else 'become'}"
        text += f", and {ending} {self.written(top_after)}. Your profile is unchanged."
        speech += f", and {ending} {say.spoken_title(top_after)}."
        lens = explanation.lens.value if explanation is not None else None
        return Answer(question, text, speech, subject.id, lens, shares, after_rank, explanation=explanation)

    def _what_if_add(self, question: Question) -> Answer:
        return self._what_if(question, adding=True)

    def _what_if_remove(self, question: Question) -> Answer:
        return self._what_if(question, adding=False)

    def _recommend(self, question: Question) -> Answer:
        self._list, self._list_profile, self._cursor = [], None, 0
        return self._from_list(question, 0)

    def _next(self, question: Question) -> Answer:
        return self._from_list(question, self._cursor + 1 if self._list_profile == self.profile else 0)

    def _from_list(self, question: Question, position: int) -> Answer:
        if self._list_profile != self.profile or position >= len(self._list):
            recommendations = self.engine.recommend(self.profile, max(LIST_LENGTH, position + 1))
            self._list, self._list_profile = [r.movie.id for r in recommendations], self.profile
        self._cursor = position
        movie = self.movies[self._list[position]]
        lead = "I recommend" if position == 0 else "Next, I recommend"
        return self._recommended(question, movie, position + 1, lead)

    def _tell_about(self, question: Question) -> Answer:
        movie = self.movie_asked(question)
        if isinstance(movie, Answer):
            return movie
        genres = ", ".join(movie.genres) or "no genre listed"
        fans = self._fans.get(movie.id, 0)
        text = f"{self.written(movie)}: {genres}. {fans} people in {self.catalogue.info.dataset} liked it."
        speech = f"{say.spoken_title(movie)}" + (f", from {movie.year}" if movie.year else "") + f": {genres}. {fans} people liked it."
        rank = self.engine.rank_of(self.profile, movie.id)
        if rank is None:
            text += " It is in your profile."
            speech += " It is in your profile."
        else:
            text += f" For you it ranks {say.ordinal(rank)}; ask “why” to hear what drives it."
            speech += f" For you it ranks {say.ordinal(rank)}."
        return Answer(question, text, speech, movie.id, rank=rank)

    def _add(self, question: Question) -> Answer:
        return self._edit_movies(question, adding=True)

    def _remove(self, question: Question) -> Answer:
        return self._edit_movies(question, adding=False)

    def _edit_movies(self, question: Question, adding: bool) -> Answer:
        movie = self.movie_asked(question)
        if isinstance(movie, Answer):
            return movie
        owned = movie.id in self.profile.movies
        if adding == owned:
            where = "already in" if owned else "not in"
            return plain_answer(question, f"{self.written(movie)} is {where} your profile.",
                          f"{say.spoken_title(movie)} is {where} your profile.")
        change = ProfileChange(add=(movie.id,)) if adding else ProfileChange(remove=(movie.id,))
        top = self.top(apply_change(self.profile, change))
        done = "Added" if adding else "Removed"
        where = "to" if adding else "from"
        text = f"{done} {self.written(movie)} {where} your profile. Your top recommendation is now {self.written(top)}."
        speech = f"{done} {say.spoken_title(movie)}. Your top recommendation is now {say.spoken_title(top)}."
        return Answer(question, text, speech, change=change)

    def _set_attributes(self, question: Question) -> Answer:
        attributes, said = [], []
        if question.gender:
            attributes.append(("gender", question.gender))
            said.append(GENDERS[question.gender])
        if question.age is not None:
            group = normalise_age(question.age)
            attributes.append(("age", group))
            said.append(f"aged {group}")
        if question.occupation:
            job = match_occupation(question.occupation, self.catalogue.occupations)
            if job is None:
                known = ", ".join(sorted(self.catalogue.occupations))
                return plain_answer(question, f"I don't know the occupation “{question.occupation}”. Known occupations: {known}.",
                              f"I don't know the occupation {question.occupation}.")
            attributes.append(("occupation", job))
            said.append(f"working as {job}")
        change = ProfileChange(attributes=tuple(attributes))
        top = self.top(apply_change(self.profile, change))
        text = f"Noted: {', '.join(said)}. Your top recommendation is now {self.written(top)}."
        speech = f"Noted: {', '.join(said).replace('-', ' to ')}. Your top recommendation is now {say.spoken_title(top)}."
        return Answer(question, text, speech, change=change)

    def _lens(self, question: Question) -> Answer:
        lens = Lens(question.lens)
        unavailable = self.engine.lenses()[lens]
        if unavailable:
            return Answer(question, unavailable, unavailable, lens=lens.value)
        shown = LENS_SHOWN.get(lens)  # a lens that says what its view shows ("show the timeline")
        answer = shown(self, question) if shown is not None else None
        if answer is not None:
            return answer
        text = f"Here is the {LENS_TITLES[lens].lower()} view."
        return Answer(question, text, text, lens=lens.value)

    def _repeat(self, question: Question) -> Answer:
        if self.last_answer is None:
            return plain_answer(question, "I haven't said anything yet. " + HELP_TEXT, "I haven't said anything yet.")
        return replace(self.last_answer, question=question, change=None)

    def _stop(self, question: Question) -> Answer:
        return Answer(question, "(stopped talking)", "", stop_speaking=True)

    def _help(self, question: Question) -> Answer:
        return Answer(question, HELP_TEXT, HELP_SPEECH)

    def _unknown(self, question: Question) -> Answer:
        shown = question.text.strip()[:80] or "that"
        return Answer(question, f"Sorry, I didn't understand “{shown}”. {HELP_TEXT}",
                      f"Sorry, I didn't understand. {HELP_SPEECH}")


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]

