import pytest

from whyrec.data.text import (Vocabulary, characters_dropped, clean_html, normalize, review_documents,
                              split_sentences, tokenize)


def test_tokenize_splits_clitics_and_punctuation_like_the_benchmark():
    assert normalize("It isn't bad, really!") == "it is n't bad , really !"
    assert tokenize("I've got &quot;great&quot; sound (mostly)?") == \
        ["i", "'ve", "got", "great", "sound", "(", "mostly", ")", "?"]
    assert tokenize("") == []


def test_characters_outside_ascii_are_counted_as_the_tokenizer_reads_them():
    """They become spaces, as in the benchmark: counted after HTML unescaping, spaces left out."""
    texts = ["It isn’t bad", "plain text", "caf&eacute; au lait &amp; more", "", "été"]
    assert tokenize(texts[0]) == ["it", "isn", "t", "bad"] and tokenize(texts[2])[0] == "caf"
    holding, counts = characters_dropped(texts)
    assert holding == 3 and counts == {"’": 1, "é": 3}
    assert characters_dropped(["plain", "&lt;ascii&gt;"]) == (0, {})


def test_letters_lost_counts_the_letters_outside_ascii():
    from whyrec.data.text import fold_to_ascii, letters_lost

    assert letters_lost(["Great sound, 10/10"]) == 0.0
    assert letters_lost(["café"]) == 1 / 4  # the tokenizer reads caf
    assert letters_lost(["Отличный звук"]) == 1.0 and letters_lost([fold_to_ascii("Отличный звук")]) == 0.0
    assert letters_lost(["abcd", "日本"]) == 2 / 6  # two CJK letters of six letters in all
    assert letters_lost(["", "123 !? 😀"]) == 0.0  # no letters at all
    assert letters_lost(["éa"]) == 0.5  # as many lost as kept


def test_folding_transliterates_other_scripts_and_spaces_cjk_characters_as_words():
    from whyrec.data.text import fold_to_ascii

    assert tokenize(fold_to_ascii("Отличный звук!")) == ["otlichnyy", "zvuk", "!"]
    assert tokenize(fold_to_ascii("Ελληνικός ήχος")) == ["ellinikos", "ichos"]
    assert tokenize(fold_to_ascii("音楽がいい")) == ["yin", "le", "ga", "i", "i"]
    assert fold_to_ascii("good 😀 ™") == "good 😀 TM"  # emoji are no letters: left for the tokenizer to drop


def test_folding_to_ascii_keeps_what_the_benchmark_normalisation_would_cut():
    from whyrec.data.text import fold_to_ascii

    text = "It isn’t bad – really… café, naïve “fun” ﬁne Straße Øre &rsquo;tis"
    folded = fold_to_ascii(text)
    assert folded == "It isn't bad - really... cafe, naive \"fun\" fine Strasse Ore 'tis"
    assert tokenize(folded)[:4] == ["it", "is", "n't", "bad"] and "cafe" in tokenize(folded)
    assert tokenize(text)[:3] == ["it", "isn", "t"] and "caf" in tokenize(text)  # the benchmarks' own reading
    assert fold_to_ascii("plain ascii, kept as is") == "plain ascii, kept as is"
    assert tokenize(fold_to_ascii("Привет 日本")) == ["privet", "ri", "ben"]  # transliterated


def test_split_sentences_handles_missing_spaces():
    assert split_sentences("Good.It works! Really?  yes\nnext") == ["Good.", "It works!", "Really?", "yes", "next"]


def test_vocabulary_build_encode_decode_and_save(tmp_path):
    vocab = Vocabulary.build([["a", "b", "a"], ["c", "a", "b"]], max_size=6)
    assert vocab.words[:4] == ["<bos>", "<eos>", "<pad>", "<unk>"]
    assert vocab.words[4:] == ["a", "b"]  # top-N keeps the most frequent
    ids = vocab.encode(["a", "c"], add_bos=True, add_eos=True)
    assert ids == [vocab.bos, vocab.id("a"), vocab.unk, vocab.eos]
    assert vocab.decode(ids) == ["a", "<unk>"]
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json").words == vocab.words


def test_review_documents_group_by_user_and_item(planted):
    corpus = planted.corpus
    by_user = review_documents(corpus, "user")
    by_item = review_documents(corpus, "item")
    assert sum(map(len, by_user.values())) == len(corpus) == sum(map(len, by_item.values()))
    assert set(by_user) == set(corpus.users)
    assert all(len(v) <= 2 for v in review_documents(corpus, "user", max_reviews=2).values())


def test_readable_joins_the_tokens_back_and_keeps_them():
    from whyrec.data.text import normalize, readable, tokenize

    assert readable("i do n't like it , really !") == "I don't like it, really!"
    assert readable("it 's ( mostly ) great ; i 've had it") == "It's (mostly) great ; I've had it"
    assert readable("ca n't stop , wo n't stop ?") == "Can't stop, won't stop?"
    assert readable("the string 's tone") == "The string's tone" and readable("") == ""
    assert readable("  extra   spaces  ") == "Extra spaces"
    # a decoder's repeated clitics stay apart instead of running together ("in'tn'tn't")
    assert readable("great , i n't n't n't") == "Great, I n't n't n't"
    assert readable("you n't do n't") == "You n't don't"  # n't joins only a word it contracts with
    # only spacing and capitals change: read again, the same tokens (over reviews of every shape)
    reviews = ["It isn't bad, really!", "I've had (two) of these; they're great, aren't they?", "i'd buy it!!",
               "Don't, won't, can't... it's the 'best' (so far)", "5 stars, 10/10 would buy again"]
    for review in reviews:
        tokens = normalize(review)
        assert tokenize(readable(tokens)) == tokens.split(), review


def test_readable_keeps_the_tokens_of_any_sequence():
    """Random sequences of words, marks and clitics, as a decoder may emit them in any order."""
    import random

    from whyrec.data.text import readable, tokenize

    pieces = ["the", "i", "can", "ca", "do", "5", "it", "sound", "'em", ",", "!", "?", "(", ")", "n't", "'s", "'ve",
              "'re", "'d", "'ll"]
    rng = random.Random(0)
    for _ in range(3000):
        tokens = [rng.choice(pieces) for _ in range(rng.randint(1, 10))]
        assert tokenize(readable(" ".join(tokens))) == tokens, tokens


def test_clean_html_drops_whole_and_cut_off_tags_but_keeps_comparisons():
    assert clean_html('<span class="a-size-medium a-color-secondary"') == ""  # a real title in the 2018 metadata
    assert clean_html("<b>Wired</b> &amp; Co") == "Wired & Co"
    assert clean_html("Ages < 5 and <i>up") == "Ages < 5 and up"
    assert clean_html(["Books", None]) == "Books None"
    assert clean_html(None) == ""


def test_vocabulary_min_count_max_size_and_order():
    """Words seen at least ``min_count`` times, the most frequent first and ties by name, up to
    ``max_size`` entries with the four specials counted; by default every word, up to 20,000
    (the PETER benchmark's vocabulary size)."""
    texts = [["b", "a", "c"], ["a", "b", "d"], ["a"]]  # a ×3, b ×2, c and d once
    assert Vocabulary.build(texts).words[4:] == ["a", "b", "c", "d"]
    assert Vocabulary.build(texts, min_count=2).words[4:] == ["a", "b"]
    assert Vocabulary.build(texts, max_size=5).words[4:] == ["a"]
    assert Vocabulary.build(texts, max_size=2).words == ["<bos>", "<eos>", "<pad>", "<unk>"]
    many = [[f"w{n}" for n in range(20_100)]]
    assert len(Vocabulary.build(many)) == 20_000


def test_a_saved_vocabulary_is_its_words_under_a_format_name():
    from whyrec.errors import DataError

    vocab = Vocabulary(["good"])
    assert vocab.to_dict() == {"format": "whyrec-vocabulary", "version": 1,
                               "words": ["<bos>", "<eos>", "<pad>", "<unk>", "good"]}
    assert Vocabulary.from_dict(vocab.to_dict()).words == vocab.words
    for bad in ({"format": "other", "words": ["good"]}, {"format": "whyrec-vocabulary", "words": "good"}, {}):
        with pytest.raises(DataError, match="not a whyrec vocabulary"):
            Vocabulary.from_dict(bad)
