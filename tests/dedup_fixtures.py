"""Hand-written news-like texts for the dedup tests (written for these tests)."""

STORIES = [
    "Heavy rain flooded the lower town of Millbrook on Tuesday night, forcing about two hundred "
    "families to leave their homes. Firefighters used small boats to reach elderly residents "
    "trapped on the upper floors, and the mayor opened the sports hall as a shelter. The river "
    "rose almost three metres in six hours, the highest level recorded since the dam was built. "
    "Officials said the water should fall slowly over the weekend if the forecast holds.",
    "The regional rail company announced that it will buy forty new electric trains to replace "
    "its ageing diesel fleet by the end of the decade. The contract, worth about nine hundred "
    "million euros, went to a consortium of two manufacturers after a two year tender. Unions "
    "welcomed the decision but warned that maintenance depots still lack qualified staff, and "
    "passenger groups asked for more frequent services on the coastal line.",
    "A small software firm in the harbour district has been fined for storing customer "
    "passwords in plain text, the data protection authority said on Friday. The company, which "
    "sells booking tools to hotels, had been warned twice before the breach that exposed the "
    "records of nearly eighty thousand guests. Its chief executive apologised and said every "
    "account had since been reset and an outside auditor hired to review its systems.",
    "Farmers in the northern valleys expect the smallest apple harvest in twenty years after a "
    "late frost destroyed blossoms in April. Cooperative managers said prices at the market "
    "could rise by a third, while some growers are considering switching to hardier pear "
    "varieties. The agriculture ministry promised emergency loans but said direct compensation "
    "would depend on the results of an inspection that starts next month.",
    "The city council voted late on Wednesday to turn the old tobacco factory into a public "
    "library, a music school and a hundred affordable flats. The plan ends a dispute that has "
    "lasted more than a decade between residents, who wanted a park, and a developer who had "
    "proposed offices. Construction is due to start next spring and the library should open "
    "before the end of the following year, the council said.",
    "Scientists at the national observatory have recorded the brightest meteor shower of the "
    "past ten years, with more than one hundred and twenty shooting stars an hour at its peak. "
    "Clear skies over the mountains allowed amateur astronomers to photograph several "
    "fireballs, and the observatory has asked the public to send in their pictures so the team "
    "can calculate where fragments may have landed.",
]


def edit_words(text: str, every: int, word: str = "blue") -> str:
    """Replace every ``every``-th word (a controlled near-duplicate)."""
    tokens = text.split()
    for i in range(every // 2, len(tokens), every):
        tokens[i] = word
    return " ".join(tokens)


def replace_at(text: str, positions: list[int], word: str = "blue") -> str:
    """Replace the words at ``positions``."""
    tokens = text.split()
    for i in positions:
        tokens[i] = word
    return " ".join(tokens)
