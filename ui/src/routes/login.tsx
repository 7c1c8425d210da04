import { AuthForm } from '../components/auth-form.tsx'
import { PageTitle } from '../components/page-title.tsx'

export default function Login () {
  return (
    <>
      <PageTitle title='Sign in' />
      <AuthForm kind='login' />
    </>
  )
}
