"""core/translate/sentences.py: lines and sentences as people type them, and back."""
from core.translate.sentences import join_text, split_text, with_small_first_letter, without_final_punctuation


def test_lines_are_kept_and_each_line_is_cut_into_sentences():
    lines, removed = split_text("I like cats. Do you? Mr. Smith went to Washington.\n\nIt was late.\r\nno stop here")
    assert lines == [["I like cats.", "Do you?", "Mr. Smith went to Washington."], [], ["It was late."],
                     ["no stop here"]] and removed == 0
    assert join_text([["Un.", "Deux."], [], ["Trois."]]) == "Un. Deux.\n\nTrois."


def test_control_characters_go_and_tabs_are_spaces():
    lines, removed = split_text("I\tsee\x07 the\x1b cat.")
    assert lines == [["I see the cat."]] and removed == 2
    assert split_text("") == ([[]], 0) and split_text("   \n") == ([[], []], 0)


def test_typing_variants():
    assert without_final_punctuation("How are you?") == "How are you"
    assert without_final_punctuation("Wait...") == "Wait" and without_final_punctuation("Go!  ") == "Go"
    assert with_small_first_letter("Hello there.") == "hello there." and with_small_first_letter("") == ""


def test_pairs_of_several_sentences_are_also_trained_sentence_by_sentence():
    from core.train.translator import aligned_sentences

    pairs = [("Hi! How are you?", "Salut ! Comment ça va ?"),
             ("Mr. Smith is here.", "M. Smith est là."),          # one sentence: nothing added
             ("Go away. Now.", "Va-t'en maintenant."),             # the sides do not split alike: nothing added
             ("Wait. I'm coming.", "Attends. J'arrive.")]
    assert aligned_sentences(pairs, 1.0, seed=0) == [("Hi!", "Salut !"), ("How are you?", "Comment ça va ?"),
                                                     ("Wait.", "Attends."), ("I'm coming.", "J'arrive.")]
    assert aligned_sentences(pairs, 0.0, seed=0) == []
