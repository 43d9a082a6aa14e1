"""Titles: the year comes out of the title and trailing articles move to the front."""
import pytest

from engine.data.parsing import parse_title, readable_title, split_title_year


@pytest.mark.parametrize(
    ("raw", "title", "year"),
    [
        ("Toy Story (1995)", "Toy Story", 1995),
        ("Usual Suspects, The (1995)", "The Usual Suspects", 1995),
        ("Bug's Life, A (1998)", "A Bug's Life", 1998),
        ("American Werewolf in London, An (1981)", "An American Werewolf in London", 1981),
        ("Misérables, Les (1995)", "Les Misérables", 1995),
        ("Postino, Il (1994)", "Il Postino", 1994),
        ("Horseman on the Roof, The (Hussard sur le toit, Le) (1995)",
         "The Horseman on the Roof (Le Hussard sur le toit)", 1995),
        ("Star Maker, The (Uomo delle stelle, L') (1995)", "The Star Maker (L'Uomo delle stelle)", 1995),
        ("Die xue shuang xiong (Killer, The) (1989)", "Die xue shuang xiong (The Killer)", 1989),
        ("Seven (Se7en) (1995)", "Seven (Se7en)", 1995),
        ("Heidi Fleiss: Hollywood Madam (1995) ", "Heidi Fleiss: Hollywood Madam", 1995),
        ("Land Before Time III: The Time of the Great Giving (1995) (V)",
         "Land Before Time III: The Time of the Great Giving", 1995),
        ("1941 (1979)", "1941", 1979),
        ("unknown", "unknown", None),
        ("Maybe, Maybe Not (Bewegte Mann, Der) (1994)", "Maybe, Maybe Not (Der Bewegte Mann)", 1994),
        ("I, Worst of All (Yo, la peor de todas) (1990)", "I, Worst of All (Yo, la peor de todas)", 1990),
    ],
)
def test_parse_title(raw, title, year):
    assert parse_title(raw) == (title, year)


def test_split_title_year_keeps_titles_without_a_year():
    assert split_title_year("Untitled Film") == ("Untitled Film", None)
    assert split_title_year("(1995)") == ("(1995)", None)


def test_readable_title_leaves_odd_parentheses_alone():
    assert readable_title("(Untitled)") == "(Untitled)"
    assert readable_title("Crow, The (") == "Crow, The ("
