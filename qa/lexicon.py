"""Word lists for reading names and questions: organisations, groups, titles, speech frames."""

from __future__ import annotations

__all__ = [
    "FRAME_ADVERBS",
    "GROUP_WORDS",
    "IRREGULAR_PAST",
    "NOT_NAME_OPENERS",
    "OPENING_WORDS",
    "ORGANISATION_WORDS",
    "PARTICLES",
    "QUESTION_AUXILIARIES",
    "RESPONSE_VERBS",
    "SPEECH_NOUNS",
    "SPEECH_VERBS",
    "SUBJECT_ENDS",
    "TALK_VERBS",
    "TITLE_CONNECTORS",
    "TITLE_NOUNS",
]

# The head nouns that end organisation names ("Commerce Department", "Washington Post",
# "Pacific Gas Electric Company"): such a name is nobody's "he" or "she", and its last word on
# its own ("department", "company") names every organisation of the kind.
ORGANISATION_WORDS = frozenset(
    """
    academy administration ag agency air airline airlines airways alliance army assembly
    associates association authority bancorp bancshares bank board broadcasting
    brothers bureau cabinet campaign capital caucus center centers centre chamber channel
    chemical chemicals chronicle church clinic club co coalition college commission
    committee communications company congress corp corporation cos council court credit
    daily data department development division electric electronics embassy energy
    enterprises exchange federation finance financial firm foods force forces foundation
    fund gas gazette gmbh government group guard herald holdings hospital house inc index
    industries institute institution insurance international investments journal lab
    laboratories laboratory league lines llc lp ltd magazine markets media mining
    ministry monitor motors museum navy network news newspaper nv observer office oil
    organisation organization parliament partners partnership party petroleum pharmaceutical
    pharmaceuticals plc police post press products program programme project
    properties radio railroad railway realty records regime research reserve resources
    review sa savings school securities senate service services shimbun society station
    steel stores survey system systems team technologies technology telecommunications
    telegraph telephone television times treasury tribunal tribune trust union university
    utilities wire
    """.split()
)

# Capitalised words that are no one's name: nationalities and parties ("Japanese",
# "Democratic"), groups that speak as one ("Republicans", "Officials"), numbers and
# quantifiers that open sentences ("One", "Much").
GROUP_WORDS = frozenset(
    """
    democrat democrats democratic republican republicans conservative conservatives labour
    liberal liberals progressive progressives socialist socialists communist communists tory
    tories independent independents marxist marxists
    american americans british briton britons english french german germans russian russians
    chinese japanese indian indians european europeans african africans asian asians arab arabs
    israeli israelis palestinian palestinians iranian iranians iraqi iraqis syrian syrians
    ukrainian ukrainians polish italian italians spanish mexican mexicans canadian canadians
    brazilian brazilians korean koreans turkish saudi saudis egyptian egyptians soviet western
    eastern northern southern national federal
    officials sources analysts experts economists traders dealers investors observers residents
    lawmakers legislators voters protesters demonstrators witnesses researchers scientists
    authorities diplomats ministers leaders members critics supporters opponents
    one two three four five six seven eight nine ten hundred thousand million billion
    much many most some several few each every both all any another
    """.split()
)

# Capitalised words that open a sentence before a name and are no part of it: "Meanwhile
# Trump said", "Although Cruz said", "On Monday Putin said".
OPENING_WORDS = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday today yesterday tonight
    january february march april june july august september october november december
    twitter facebook instagram perhaps asked contrast meanwhile still however many others
    several critics police although though whether besides even unlike like despite instead
    indeed later earlier last next yet also
    """.split()
)

# Role nouns that end a title before a name ("Avalanche head coach Jared Bednar"), besides
# the offices qa.speakers knows ("minister", "president").
TITLE_NOUNS = frozenset(
    """
    widow host anchor star pastor aide head activist chief coach manager founder owner
    economist analyst strategist professor lawyer counsel correspondent editor columnist
    """.split()
)
# Lower-case words that may join the words of a title ("Secretary of State", "Chancellor of
# the Exchequer").
TITLE_CONNECTORS = frozenset({"of", "the", "and", "for", "&"})

# Lower-case words inside a name ("Ludwig van Beethoven", "Osama bin Laden", "Bed Bath &
# Beyond").
PARTICLES = frozenset(
    {"de", "da", "di", "del", "van", "von", "der", "den", "la", "le", "bin", "ibn", "al", "du", "&"}
)

# -- questions --------------------------------------------------------------------------------

# "what DID X say", "what HAS X said", "DID X comment on Y".
QUESTION_AUXILIARIES = frozenset({"did", "does", "do", "has", "have", "had", "will", "would"})
# Words that open a phrase which is not a person's name: "what did the report say".
NOT_NAME_OPENERS = frozenset(
    """
    the a an this that these those you i we it my your our its people anyone anybody someone
    somebody everyone they experts officials what who which there article articles report
    """.split()
)
# Words that end the subject of a frame: "according to Shoigu, what ...", "... Lenin why ...".
SUBJECT_ENDS = QUESTION_AUXILIARIES | frozenset(
    """
    what who whom whose how why when where which is was are were be been am can could should
    shall may might must on about in regarding concerning over that if whether
    """.split()
)
# Speech verbs in the past that do not end in -d or -s: "tell me what Putin told them".
IRREGULAR_PAST = frozenset({"said", "told", "thought", "wrote", "written", "spoke", "spoken"})
# Words between a subject and its verb that keep the frame: "what did X ever say".
FRAME_ADVERBS = frozenset(
    """
    ever also else really actually exactly just first last previously recently publicly
    originally then later finally once already initially specifically all
    """.split()
)
# What someone can be asked to have said: "what did X say/think/announce/promise".
SPEECH_VERBS = frozenset(
    """
    say says said tell tells told think thinks thought believe believes believed
    announce announces announced promise promises promised claim claims claimed
    argue argues argued warn warns warned propose proposes proposed suggest suggests suggested
    stress stresses stressed write writes wrote written tweet tweets tweeted
    predict predicts predicted insist insists insisted reveal reveals revealed
    admit admits admitted declare declares declared state states stated
    explain explains explained mention mentions mentioned recommend recommends recommended
    urge urges urged vow vows vowed pledge pledges pledged comment comments commented
    reply replies replied answer answers answered testify testifies testified
    remark remarks remarked confirm confirms confirmed deny denies denied
    acknowledge acknowledges acknowledged concede concedes conceded note notes noted
    emphasize emphasizes emphasized emphasise emphasises emphasised report reports reported
    speak speaks spoke spoken talk talks talked
    """.split()
)
# "how did X respond/react": how someone answered, in their own words.
RESPONSE_VERBS = frozenset(
    """
    respond responds responded react reacts reacted reply replies replied answer answers
    answered describe describes described explain explains explained justify justifies
    justified defend defends defended characterize characterizes characterized characterise
    characterises characterised
    """.split()
)
# "did X say anything about Y": yes-or-no questions that ask for someone's words.
TALK_VERBS = frozenset(
    """
    say said tell told comment commented mention mentioned speak spoke spoken talk talked
    remark remarked
    """.split()
)
# "X's remarks on Y", "his comments"; not "X's view", which may be a view from a window.
SPEECH_NOUNS = frozenset(
    """
    remarks remark comments comment statement statements words speech speeches testimony
    quote quotes interview interviews tweet tweets response reaction reply answer message
    announcement
    """.split()
)
