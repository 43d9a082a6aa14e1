"""The F1 help: what each part of the window does and every shortcut, in a scrollable dialog that fits
a small screen (a message box grows as tall as its text)."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

HELP_HTML = """
<h3>CineWhy: recommendations that explain themselves</h3>
<p><b>Left:</b> pick a dataset user, or one of your own saved profiles, and edit it: add movies
(type any part of a title; case, punctuation and small typos do not matter) with the stars shown
next to the search box, remove them, rate them (click a star, or press 1–5; 0 clears), change
gender, age group and occupation. Every edit updates the recommendations at once. Editing a
dataset user's profile saves your changes as a new profile, “User N (edited)”.</p>
<p><b>Centre:</b> the 20 movies the model recommends, best first. The bar shows each movie's
probability relative to the top recommendation.</p>
<p><b>Right:</b> why the selected movie is recommended. In the <i>Feature relevance</i> tab, each
band flows from a part of your profile (a movie you liked, your gender, age or occupation) into the
movie; its thickness is that feature's share of the movie's score (ε-LRP on RecoNet). Small
contributions are grouped as “other features”. Hover a band for its exact relevance; click a movie
band to find it in your profile. If an edit pushes the selected movie out of the top 20, it stays
shown and a note gives its new rank. The <i>Training-data influence</i> tab shows which ratings moved
the movie's predicted rating (MF, fast influence analysis): your rated movies on the left, the other
people who rated it on the right; a line's width is how many stars that rating moved the prediction,
blue up, red down. A profile that is not a dataset user is fitted to its ratings on the spot
(“fold-in”), without retraining. Hover for exact values. The <i>Expert attribution</i> tab shows which
part of your profile decided the movie's like-probability: the movie's genres and year with your
demographics, plus the movies you rated, plus what other viewers' choices say about the movie, or
everything together; below it, a rating sitting as a timeline of the model's guesses and what carried
each. The <i>Pixel relevance</i> tab is a separate product catalogue demo (MovieLens has no images):
for a shopper, which pixels of two product images made them related (red) or worked against it
(blue).</p>
<p><b>Below:</b> the conversation. Ask why a movie is recommended, why another is not, what would change
if you had not seen a movie, who influenced a prediction, what if you rated a movie differently, or
tell it your age and job; type <i>help</i> for everything it
understands. Answers are spoken aloud and the view switches to the movie and lens they are about.</p>
<table cellspacing="6">
<tr><td><b>Ctrl+F</b></td><td>find a movie to add</td></tr>
<tr><td><b>Ctrl+N</b></td><td>new profile</td></tr>
<tr><td><b>Ctrl+Z</b></td><td>undo the last profile edit</td></tr>
<tr><td><b>Delete</b></td><td>remove the selected movies from the profile</td></tr>
<tr><td><b>1–5, 0</b></td><td>rate the selected movies in the profile (0 clears the rating)</td></tr>
<tr><td><b>Ctrl+1–5</b></td><td>in the search box: the stars the movie will be added with</td></tr>
<tr><td><b>Ctrl+L</b></td><td>ask a question in the chat panel (“why this movie?”, “why not Fargo?”)</td></tr>
<tr><td><b>Ctrl+Space</b></td><td>ask by voice (push to talk; it stops by itself after a pause)</td></tr>
<tr><td><b>Esc</b></td><td>stop talking</td></tr>
<tr><td><b>Ctrl+M</b></td><td>mute or unmute spoken answers</td></tr>
<tr><td><b>Ctrl+Shift+S</b></td><td>save the last answer as a WAV file</td></tr>
<tr><td><b>Alt+1–4</b></td><td>show a lens: feature relevance, training-data influence, expert attribution, pixel relevance</td></tr>
<tr><td><b>Ctrl+E</b></td><td>export the view in front as PNG or SVG</td></tr>
<tr><td><b>F1</b></td><td>this help</td></tr>
<tr><td><b>Ctrl+Q</b></td><td>quit</td></tr>
</table>
"""


class HelpDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("CineWhy help")
        self.text = QTextBrowser(self)
        self.text.setHtml(HELP_HTML)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(640, 520)
