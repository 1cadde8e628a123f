"""Every label, state and message of the UI in English, Japanese and Korean, and the UI language of a session.

Quoted text (answers, titles, questions) is never translated; the copied blocks take their labels from
assistant/citations.py. The strings here are fixed wording: safe for Streamlit's markdown elements, with
``{placeholders}`` only for numbers and codes; names and quotes always go through st.text.
"""

from __future__ import annotations

import re

import streamlit as st

from assistant.citations import UI_LANGUAGES, UiLanguage

#: Session-state key of the language chosen in the sidebar (ui/app.py).
LANGUAGE_KEY = "ui_language"

_TEXTS: dict[str, tuple[str, str, str]] = {
    # key: (English, 日本語, 한국어)
    "page_title": ("Checksheet assistant", "チェックシート アシスタント", "체크시트 어시스턴트"),
    "nav_ask": ("Ask", "質問する", "질문하기"),
    "nav_source": ("Source view", "出典ビュー", "출처 보기"),
    "nav_questionnaire": ("Questionnaire", "質問票", "질문지"),
    "ui_language": ("Language · 言語 · 언어", "Language · 言語 · 언어", "Language · 言語 · 언어"),
    # chat page
    "title": ("Security checksheet assistant", "セキュリティチェックシート アシスタント", "보안 체크시트 어시스턴트"),
    "intro": (
        "Answers are the vendors' own words, quoted from their security documents with a citation you can "
        "check. Ask in English, 日本語 or 한국어.",
        "回答は各ベンダー自身の言葉です。セキュリティ文書からそのまま引用し、確認できる出典を付けています。"
        "English、日本語、한국어で質問できます。",
        "답변은 각 벤더가 직접 쓴 문장입니다. 보안 문서에서 그대로 인용하며 확인할 수 있는 출처를 붙입니다. "
        "English, 日本語, 한국어로 질문할 수 있습니다.",
    ),
    "chat_placeholder": (
        "Ask a security question, e.g. Do you keep backups?",
        "セキュリティの質問を入力 (例: バックアップは何世代保持していますか？)",
        "보안 질문을 입력하세요 (예: 백업은 몇 세대 보관합니까?)",
    ),
    "search": ("Search", "検索", "검색"),
    "vendor": ("Vendor", "ベンダー", "벤더"),
    "all_vendors": ("All vendors", "すべてのベンダー", "모든 벤더"),
    "answer_language": ("Answer language", "回答の言語", "답변 언어"),
    "any_language": ("Any language", "すべての言語", "모든 언어"),
    "alternatives": ("Alternatives to show", "表示する他の候補の数", "표시할 다른 후보 수"),
    "index": ("Index", "インデックス", "인덱스"),
    "index_summary": (
        "{rows} rows from {documents} documents\nmodel {model}\nanswer threshold {threshold}",
        "{documents} 文書の {rows} 行\nモデル {model}\n回答のしきい値 {threshold}",
        "{documents}개 문서의 {rows}개 행\n모델 {model}\n답변 임계값 {threshold}",
    ),
    "clear": ("Clear the conversation", "会話を消去", "대화 지우기"),
    "export": ("Download the conversation", "会話をダウンロード", "대화 다운로드"),
    "export_markdown": ("Markdown", "Markdown", "Markdown"),
    "export_csv": ("CSV (spreadsheet)", "CSV (表計算)", "CSV (스프레드시트)"),
    "question_error": (
        "This question cannot be asked as given:",
        "この質問はこのままでは受け付けられません:",
        "이 질문은 이대로는 받을 수 없습니다:",
    ),
    # the states of a result
    "state_answered": ("Answered", "回答あり", "답변 있음"),
    "state_conflict": ("The documents disagree", "文書間で回答が食い違っています", "문서 간 답변이 서로 다릅니다"),
    "state_no_answer": ("No reliable answer", "確かな回答はありません", "신뢰할 수 있는 답변이 없습니다"),
    "state_no_documents": ("No documents for this company", "この会社の文書はありません", "이 회사의 문서가 없습니다"),
    "state_no_rows": ("No rows to search", "検索できる行がありません", "검색할 행이 없습니다"),
    "conflict_note": (
        "No single answer is chosen: each row is quoted with its citation. Check which one applies before you answer.",
        "どちらか一方の回答は選んでいません。各行を出典付きで引用しています。回答する前にどちらが該当するか確認してください。",
        "어느 한쪽 답변을 고르지 않았습니다. 각 행을 출처와 함께 인용합니다. "
        "답변하기 전에 어느 쪽이 해당하는지 확인하세요.",
    ),
    "no_answer_note": (
        "Closest rows — check before you use them. None of them is a sure answer to this question.",
        "近い行です — 使う前に確認してください。いずれもこの質問への確かな回答ではありません。",
        "가장 가까운 행입니다 — 사용하기 전에 확인하세요. 어느 것도 이 질문에 대한 확실한 답변은 아닙니다.",
    ),
    "no_documents_note": (
        "The question is about a company or product we hold no documents for. Other vendors' rows do not answer it.",
        "この質問は、文書を保有していない会社・製品についてのものです。他のベンダーの行はこの質問への回答になりません。",
        "이 질문은 문서를 보유하지 않은 회사나 제품에 관한 것입니다. 다른 벤더의 행은 이 질문의 답변이 아닙니다.",
    ),
    "no_rows_note": (
        "No rows are left to search with these filters: change the vendor or the answer language.",
        "この条件では検索できる行がありません。ベンダーか回答の言語を変えてください。",
        "이 조건으로는 검색할 행이 없습니다. 벤더나 답변 언어를 바꾸세요.",
    ),
    "rows_of_others": (
        "Closest rows of the vendors we hold documents for (not an answer)",
        "文書を保有しているベンダーの近い行 (回答ではありません)",
        "문서를 보유한 벤더의 가까운 행 (답변 아님)",
    ),
    "level_high": ("High confidence", "確信度: 高", "신뢰도: 높음"),
    "level_medium": ("Medium confidence", "確信度: 中", "신뢰도: 보통"),
    "level_low": ("Low confidence", "確信度: 低", "신뢰도: 낮음"),
    "confidence": (
        "confidence {confidence} · an answer needs {threshold}",
        "確信度 {confidence} · 回答に必要な値 {threshold}",
        "신뢰도 {confidence} · 답변에 필요한 값 {threshold}",
    ),
    # where the answer comes from
    "scope_given": (
        "Searched {vendor} only (chosen in the sidebar).",
        "{vendor} のみを検索しました (サイドバーで選択)。",
        "{vendor}만 검색했습니다 (사이드바에서 선택).",
    ),
    "scope_question": (
        "Searched {vendor} only (named in the question).",
        "{vendor} のみを検索しました (質問で指定)。",
        "{vendor}만 검색했습니다 (질문에서 지정).",
    ),
    "scope_overridden": (
        "The question names {vendor}: searched {vendor}, not {chosen} chosen in the sidebar.",
        "質問で {vendor} が指定されているため、サイドバーで選んだ {chosen} ではなく {vendor} を検索しました。",
        "질문에서 {vendor}를 지정했으므로 사이드바에서 선택한 {chosen} 대신 {vendor}를 검색했습니다.",
    ),
    "scope_from_vendor": (
        "Answer from {vendor}: no vendor was chosen or named.",
        "{vendor} の回答です (ベンダーの指定はありません)。",
        "{vendor}의 답변입니다 (벤더 지정 없음).",
    ),
    "scope_others_below": (
        " Other vendors' rows are below.",
        "他のベンダーの行は下にあります。",
        " 다른 벤더의 행은 아래에 있습니다.",
    ),
    "scope_language": ("Rows in {name} only.", "{name} の行のみ。", "{name} 행만."),
    "note": ("Note", "注意", "주의"),
    # the card
    "verbatim": ("The vendor's answer, verbatim", "ベンダーの回答 (原文のまま)", "벤더의 답변 (원문 그대로)"),
    "item": ("Item", "項目", "항목"),
    "source": ("Source", "出典", "출처"),
    "open_source": (
        "Open the cited lines in the source view",
        "引用箇所を出典ビューで開く",
        "인용 부분을 출처 보기에서 열기",
    ),
    "source_short": ("Source view", "出典ビュー", "출처 보기"),
    "row_as_written": ("The row as written in the document", "文書に書かれたままの行", "문서에 쓰인 그대로의 행"),
    "column": ("Column", "列", "열"),
    "cell": ("Cell", "セル", "셀"),
    "plain_text": (
        "Plain text of the whole answer (the same as Copy all)",
        "回答全体のプレーンテキスト (「すべてコピー」と同じ内容)",
        "답변 전체의 일반 텍스트 (\u201c모두 복사\u201d와 같은 내용)",
    ),
    "alternatives_expander": (
        "Alternatives: the next {n} rows",
        "その他の候補: 次に近い {n} 行",
        "기타 후보: 다음으로 가까운 {n}개 행",
    ),
    "outdated_heading": (
        "Outdated: an older document says otherwise",
        "旧情報: 古い文書では異なる記載です",
        "이전 정보: 오래된 문서에는 다르게 적혀 있습니다",
    ),
    "disagrees_with": (
        "The documents disagree: {rows} of the same version says otherwise",
        "文書間で食い違い: 同じ版の {rows} は異なる回答です",
        "문서 간 불일치: 같은 버전의 {rows}에는 다르게 적혀 있습니다",
    ),
    "outdated_says": ("Outdated: it says", "旧情報: 次のように書かれています", "이전 정보: 다음과 같이 적혀 있습니다"),
    "current_says": ("Current: the newer row", "現行: 新しい行", "현행: 새 행"),
    "newer_exists": (
        "A newer document of this vendor exists ({documents}): this answer may be out of date.",
        "このベンダーの新しい文書があります ({documents})。この回答は古い可能性があります。",
        "이 벤더의 더 새로운 문서가 있습니다 ({documents}). 이 답변은 오래되었을 수 있습니다.",
    ),
    "newer_differs": (
        "A newer document states this item otherwise ({row}): this row is probably out of date.",
        "新しい文書ではこの項目の記載が異なります ({row})。この行は古い可能性が高いです。",
        "새 문서에는 이 항목이 다르게 적혀 있습니다 ({row}). 이 행은 오래되었을 가능성이 높습니다.",
    ),
    "newer_document": ("a newer document", "新しい文書", "새 문서"),
    "same_as": (
        "Says the same: {rows}.",
        "同じ記載: {rows}。",
        "같은 내용: {rows}.",
    ),
    "newer_agrees": (
        "A newer document states the same ({row}).",
        "新しい文書でも同じ記載です ({row})。",
        "새 문서에도 같은 내용이 적혀 있습니다 ({row}).",
    ),
    "current_is_answer": ("Current: the answer above", "現行: 上の回答", "현행: 위의 답변"),
    "disagreeing_row": ("Row {n} of {total}", "{total} 行中 {n} 行目", "{total}개 행 중 {n}번째"),
    "closest_heading": (
        "Closest rows — check before you use them",
        "近い行 — 使う前に確認してください",
        "가장 가까운 행 — 사용하기 전에 확인하세요",
    ),
    "other_vendors_heading": ("Other vendors' closest rows", "他のベンダーの近い行", "다른 벤더의 가까운 행"),
    "rank_score": ("Rank {rank} · score {score}", "順位 {rank} · スコア {score}", "순위 {rank} · 점수 {score}"),
    "copy": ("Copy", "コピー", "복사"),
    "copy_all": ("Copy all", "すべてコピー", "모두 복사"),
    "copied": ("Copied", "コピーしました", "복사했습니다"),
    "copy_failed": (
        "Could not copy: use the plain text below",
        "コピーできませんでした。下のプレーンテキストを使ってください",
        "복사하지 못했습니다. 아래 일반 텍스트를 사용하세요",
    ),
    # feedback
    "rate": ("Was this answer right?", "この回答は正しかったですか?", "이 답변이 맞았습니까?"),
    "correct_row": ("The right row (optional)", "正しい行 (任意)", "올바른 행 (선택)"),
    "none_of_these": ("(none of these)", "(該当なし)", "(해당 없음)"),
    "typed_row": ("…or type its row id", "…または行IDを入力", "…또는 행 ID 입력"),
    "send_feedback": ("Send", "送信", "보내기"),
    "feedback_saved": (
        "Thank you: your rating is saved.",
        "ありがとうございます。評価を保存しました。",
        "감사합니다. 평가를 저장했습니다.",
    ),
    "feedback_saved_row": (
        "Saved with the right row:",
        "正しい行とともに保存しました:",
        "올바른 행과 함께 저장했습니다:",
    ),
    "unknown_row": (
        "This row id is not in the index:",
        "この行IDはインデックスにありません:",
        "이 행 ID는 인덱스에 없습니다:",
    ),
    "feedback_error": (
        "The feedback could not be saved:",
        "フィードバックを保存できませんでした:",
        "피드백을 저장하지 못했습니다:",
    ),
    # source view
    "back": ("Back to the chat", "チャットに戻る", "채팅으로 돌아가기"),
    "row_id": ("Row id", "行ID", "행 ID"),
    "item_no": ("Item number (No.)", "項目番号 (No.)", "항목 번호 (No.)"),
    "document": ("Document", "文書", "문서"),
    "all_documents": ("(all documents)", "(すべての文書)", "(모든 문서)"),
    "context": ("Lines of context either side", "前後に表示する行数", "앞뒤로 표시할 행 수"),
    "source_empty": (
        "Open this page from an answer's source link, or enter a row id, an item number or a document in the sidebar.",
        "回答の出典リンクからこのページを開くか、サイドバーに行ID・項目番号・文書を入力してください。",
        "답변의 출처 링크에서 이 페이지를 열거나, 사이드바에 행 ID·항목 번호·문서를 입력하세요.",
    ),
    "cannot_show": ("This row cannot be shown:", "この行は表示できません:", "이 행은 표시할 수 없습니다:"),
    "no_item": ("No row has this item number:", "この項目番号の行はありません:", "이 항목 번호의 행이 없습니다:"),
    "item_documents": (
        "Several documents have this item number: choose one.",
        "この項目番号は複数の文書にあります。文書を選んでください。",
        "이 항목 번호는 여러 문서에 있습니다. 문서를 고르세요.",
    ),
    "row_choice": ("Row", "行", "행"),
    "source_header": (
        "Row: {row}\nVendor: {vendor}\nDocument: {document}\nFile: {file}, {span} of {total}",
        "行: {row}\nベンダー: {vendor}\n文書: {document}\nファイル: {file}, {span} (全 {total} 行)",
        "행: {row}\n벤더: {vendor}\n문서: {document}\n파일: {file}, {span} (전체 {total}행)",
    ),
    "file_changed": (
        "The file no longer has the quoted text at these lines: the document changed after the index was built. "
        "Rebuild the index (`assistant build`) before relying on this citation.",
        "ファイルのこの行には引用したテキストがもうありません。インデックス作成後に文書が変更されています。"
        "この出典を使う前にインデックスを作り直してください (`assistant build`)。",
        "파일의 이 행에 인용한 텍스트가 더 이상 없습니다. 인덱스를 만든 뒤 문서가 바뀌었습니다. "
        "이 출처를 사용하기 전에 인덱스를 다시 만드세요 (`assistant build`).",
    ),
    "cited_exact": (
        "The cited lines exactly as the file has them",
        "ファイルに書かれたままの引用行",
        "파일에 쓰인 그대로의 인용 행",
    ),
    "numbered": (
        "All lines shown above as numbered plain text",
        "上の全行を行番号付きプレーンテキストで",
        "위의 모든 행을 행 번호가 있는 일반 텍스트로",
    ),
    "lines_legend": (
        "Line numbers of the file; ▶ and the yellow band mark the cited lines; ⇥ marks a tab between cells.",
        "ファイルの行番号です。▶ と黄色の帯が引用行、⇥ はセル間のタブです。",
        "파일의 행 번호입니다. ▶와 노란 띠가 인용 행이며, ⇥는 셀 사이의 탭입니다.",
    ),
    "checklist_title": (
        "Auditor's checklist for this document",
        "この文書の監査チェックリスト",
        "이 문서의 감사 체크리스트",
    ),
    "checklist_intro": (
        "Rows of this document that a newer document states otherwise, or that disagree with another language "
        "of the same version, each with both citations.",
        "この文書の行のうち、新しい文書で異なる記載になっている行と、同じ版の別言語の行と食い違う行です。両方の出典を示します。",
        "이 문서의 행 가운데 새 문서에서 다르게 기재된 행과, 같은 버전의 다른 언어 행과 서로 다른 행입니다. "
        "두 출처를 모두 보여 줍니다.",
    ),
    "checklist_count": (
        "{outdated} outdated · {disagrees} disagreeing",
        "旧情報 {outdated} 件 · 食い違い {disagrees} 件",
        "이전 정보 {outdated}건 · 불일치 {disagrees}건",
    ),
    "checklist_empty": (
        "Nothing to check: no row of this document is outdated by a newer document or disagrees with another row.",
        "確認事項はありません。この文書には、新しい文書で置き換えられた行も、他の行と食い違う行もありません。",
        "확인할 항목이 없습니다. 이 문서에는 새 문서로 대체된 행도, 다른 행과 다른 행도 없습니다.",
    ),
    "finding_outdated": ("Outdated", "旧情報", "이전 정보"),
    "finding_disagrees": ("Disagrees", "食い違い", "불일치"),
    "this_says": ("This document says", "この文書の記載", "이 문서의 기재"),
    "newer_says": ("The newer document says", "新しい文書の記載", "새 문서의 기재"),
    "other_says": ("The other row says", "もう一方の行の記載", "다른 행의 기재"),
    # questionnaire page (ui/questionnaire.py)
    "q_title": ("Fill a questionnaire", "質問票に回答する", "질문지 작성"),
    "q_intro": (
        "Upload a customer's questionnaire (.xlsx, .xlsm or .csv). Each question is answered with the vendor's own words and a citation; rows that need a person are flagged and highlighted in the file.",
        "お客様の質問票 (.xlsx、.xlsm、.csv) をアップロードしてください。各質問にベンダー自身の言葉と出典で回答します。人の確認が必要な行には印を付け、ファイル内で強調表示します。",
        "고객의 질문지(.xlsx, .xlsm, .csv)를 업로드하세요. 각 질문에 벤더 자신의 문장과 출처로 답변하며, 사람이 확인해야 할 행은 표시하고 파일에서 강조합니다.",
    ),
    "q_upload": ("Questionnaire file", "質問票ファイル", "질문지 파일"),
    "q_start": (
        "Upload a questionnaire to begin.",
        "質問票をアップロードすると始まります。",
        "질문지를 업로드하면 시작합니다.",
    ),
    "q_read_error": ("This file cannot be filled:", "このファイルには回答できません:", "이 파일은 작성할 수 없습니다:"),
    "q_file": (
        "File: {name} ({sheets} sheets, {questions} questions found)",
        "ファイル: {name} ({sheets} シート、質問 {questions} 件)",
        "파일: {name} (시트 {sheets}개, 질문 {questions}개)",
    ),
    "q_unsure": (
        "The question column was guessed, not named by a header. Check the preview below, and choose the sheet and the question column if it is wrong.",
        "質問の列は見出しからではなく推定で選びました。下のプレビューを確認し、違っていればシートと質問の列を選んでください。",
        "질문 열은 머리글이 아니라 추정으로 골랐습니다. 아래 미리보기를 확인하고, 틀리면 시트와 질문 열을 고르세요.",
    ),
    "q_choose": (
        "Choose the sheet and the question column myself",
        "シートと質問の列を自分で選ぶ",
        "시트와 질문 열을 직접 고르기",
    ),
    "q_sheet": ("Sheet", "シート", "시트"),
    "q_all_sheets": ("Every question sheet", "質問のあるすべてのシート", "질문이 있는 모든 시트"),
    "q_column": ("Question column", "質問の列", "질문 열"),
    "q_detected_column": ("As detected", "検出どおり", "감지된 대로"),
    "q_detected": ("What was found", "検出結果", "감지 결과"),
    "q_preview": ("The first questions of each sheet", "各シートの最初の質問", "각 시트의 첫 질문"),
    "q_no_questions": (
        "No questions were found. Choose the sheet and the question column.",
        "質問が見つかりません。シートと質問の列を選んでください。",
        "질문을 찾지 못했습니다. 시트와 질문 열을 고르세요.",
    ),
    "q_losses": (
        "The filled copy will not keep everything of this workbook (check the copy before sending it):",
        "回答済みのコピーには、このブックの一部が残りません (送る前にコピーを確認してください):",
        "작성된 사본에는 이 통합 문서의 일부가 남지 않습니다 (보내기 전에 사본을 확인하세요):",
    ),
    "q_writing": ("Writing the filled file…", "回答済みファイルを書き出しています…", "작성된 파일을 쓰는 중…"),
    "q_vendor": ("Vendor whose documents answer", "回答に使うベンダーの文書", "답변에 쓸 벤더의 문서"),
    "q_vendor_placeholder": ("Choose the vendor", "ベンダーを選択", "벤더 선택"),
    "q_language": ("Answer language", "回答の言語", "답변 언어"),
    "q_any_language": ("Any language", "すべての言語", "모든 언어"),
    "q_fill": ("Fill the questionnaire", "質問票に回答する", "질문지 작성하기"),
    "q_progress": (
        "Answering question {done} of {total}",
        "{total} 件中 {done} 件目に回答中",
        "{total}개 중 {done}번째 질문에 답하는 중",
    ),
    "q_filled": (
        "Filled {total} questions of {name} from {vendor}'s documents in {seconds} s",
        "{name} の質問 {total} 件に {vendor} の文書から回答しました ({seconds} 秒)",
        "{name}의 질문 {total}개를 {vendor}의 문서로 작성했습니다 ({seconds}초)",
    ),
    "q_fill_error": (
        "The questionnaire could not be filled:",
        "質問票に回答できませんでした:",
        "질문지를 작성할 수 없었습니다:",
    ),
    "q_results": ("Results", "結果", "결과"),
    "q_filter": ("Show", "表示", "표시"),
    "q_download": ("Download the filled file", "回答済みファイルをダウンロード", "작성된 파일 다운로드"),
    "q_source_pick": ("Row to check in the source view", "出典ビューで確認する行", "출처 보기에서 확인할 행"),
    "q_source_link": (
        "Open the cited lines in the source view",
        "引用箇所を出典ビューで開く",
        "인용 부분을 출처 보기에서 열기",
    ),
    "q_review": ("needs review", "要確認", "검토 필요"),
    "q_all": ("all rows", "すべての行", "모든 행"),
    "q_answered": ("answered", "回答あり", "답변됨"),
    "q_conflict": ("conflict", "食い違い", "불일치"),
    "q_no_answer": ("no answer", "回答なし", "답변 없음"),
    "q_error": ("error", "エラー", "오류"),
    "q_yes": ("yes", "はい", "예"),
    "q_skipped": ("skipped: {reason}", "スキップ: {reason}", "건너뜀: {reason}"),
    "q_questions": ("{count} questions", "質問 {count} 件", "질문 {count}개"),
    "q_guessed": ("guessed", "推定", "추정"),
    "q_named": ("named by the header", "見出しで指定", "머리글로 지정"),
    "q_open": ("open", "開く", "열기"),
    "q_col_sheet": ("Sheet", "シート", "시트"),
    "q_col_row": ("Row", "行", "행"),
    "q_col_no": ("No.", "No.", "No."),
    "q_col_category": ("Category", "分類", "분류"),
    "q_col_question": ("Question", "質問", "질문"),
    "q_col_status": ("Status", "状態", "상태"),
    "q_col_review": ("Review", "要確認", "검토"),
    "q_col_yes_no": ("Yes/No", "はい/いいえ", "예/아니오"),
    "q_col_answer": ("Answer (verbatim)", "回答 (原文のまま)", "답변 (원문 그대로)"),
    "q_col_confidence": ("Confidence", "確信度", "신뢰도"),
    "q_col_level": ("Level", "レベル", "수준"),
    "q_col_source": ("Source", "出典", "출처"),
    "q_col_row_id": ("Row id", "行ID", "행 ID"),
    "q_col_link": ("Source view", "出典ビュー", "출처 보기"),
    "q_col_note": ("Note", "注記", "메모"),
    "q_col_found": ("Found", "検出", "감지"),
    "q_col_header_row": ("Header row", "見出し行", "머리글 행"),
    "q_col_question_column": ("Question column", "質問の列", "질문 열"),
    "q_col_answer_column": ("Answer column", "回答の列", "답변 열"),
    "q_col_output": ("Added columns from", "追加した列の開始位置", "추가한 열의 시작"),
    "q_col_how": ("How", "方法", "방법"),
}


_POSITION: dict[str, int] = {language: position for position, language in enumerate(UI_LANGUAGES)}


def t(key: str, language: str = "en", **values: object) -> str:
    """The text ``key`` in ``language`` (English for a language the UI does not speak), values filled in.

    >>> t("scope_language", "ja", name="English"), t("copy", "fr")
    ('English の行のみ。', 'Copy')
    """
    text = _TEXTS[key][_POSITION.get(language, 0)]
    return text.format(**values) if values else text


_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9-]*)?\s*(?:;\s*q\s*=\s*([01](?:\.[0-9]{0,3})?))?\s*$")


def pick_language(locale: str | None, accept_language: str | None) -> UiLanguage:
    """The UI language for a browser: its locale ("ja-JP"), else its Accept-Language header, else English.

    >>> pick_language("ko-KR", None), pick_language(None, "fr-FR,ja;q=0.8,en;q=0.5"), pick_language("de", "")
    ('ko', 'ja', 'en')
    """
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        match = _TAG.match(part)
        if match:
            weighted.append((-float(match.group(2) or 1), position, match.group(1).lower()))
    codes = [re.split(r"[-_]", locale or "")[0].lower(), *(code for _, _, code in sorted(weighted))]
    return next((_LANGUAGES[code] for code in codes if code in _LANGUAGES), "en")


_LANGUAGES: dict[str, UiLanguage] = {language: language for language in UI_LANGUAGES}


def browser_language() -> UiLanguage:
    """The language the browser asks for (st.context.locale, else the Accept-Language header)."""
    return pick_language(st.context.locale, st.context.headers.get("Accept-Language"))


def ui_language() -> UiLanguage:
    """The session's UI language: as chosen in the sidebar, else the browser's."""
    return _LANGUAGES.get(str(st.session_state.get(LANGUAGE_KEY))) or browser_language()
